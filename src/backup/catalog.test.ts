import { describe, expect, it } from 'vitest';
import { dependencyOrder } from './catalog.js';

describe('dependencyOrder', () => {
  it('puts parents before children, alphabetically among equals', () => {
    const order = dependencyOrder(
      ['prescriptions', 'appointments', 'users', 'patients', 'audit_log'],
      [
        ['patients', 'users'],
        ['appointments', 'patients'],
        ['appointments', 'users'],
        ['prescriptions', 'appointments'],
        ['prescriptions', 'patients'],
      ],
    );
    expect(order).toEqual(['audit_log', 'users', 'patients', 'appointments', 'prescriptions']);
  });

  it('ignores self-references and still orders every table in a cycle', () => {
    const order = dependencyOrder(
      ['a', 'b', 'c'],
      [
        ['a', 'a'],
        ['b', 'c'],
        ['c', 'b'],
      ],
    );
    expect(order).toEqual(['a', 'b', 'c']);
  });
});
