import { describe, expect, it } from 'vitest';
import { allergyHits } from './allergy';

describe('allergyHits', () => {
  it('finds an allergen the medication names, either way round, ignoring case', () => {
    expect(allergyHits('Penicillin V 500 mg', ['penicillin', 'latex'])).toEqual(['penicillin']);
    expect(allergyHits('ibuprofen', ['Ibuprofen lysine'])).toEqual(['Ibuprofen lysine']);
  });

  it('stays quiet for unrelated drugs and too-short input', () => {
    expect(allergyHits('Paracetamol', ['penicillin'])).toEqual([]);
    expect(allergyHits('pe', ['penicillin'])).toEqual([]);
    expect(allergyHits('aspirin', [])).toEqual([]);
  });
});
