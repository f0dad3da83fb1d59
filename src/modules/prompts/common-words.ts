/**
 * Everyday English words that are also surnames or first names ("will", "may", "brown", "hall").
 * A lone lower-case word is redacted when it is a patient's surname, unless it is one of these:
 * otherwise one patient called Will Young would blank "will" and "young" in every prompt of the
 * practice. Capitalised, or next to another name word, they are still redacted.
 */
export const commonWords: ReadonlySet<string> = new Set(
  `a about above after again all also am an and any are as at back baker bank be bell berry
  best bill bird black bloom blue bond born both bright brook brown burn bush but by call can
  card carter case chance chase church clay cook cross dale dawn day dean do down drew duke
  early east end even ever far fell few field fish fisher fletcher ford forest fox frank free
  friend from game gay gilbert glass gold good grace grant gray green grey hale hall hand hard
  harvest hay head heart high hill hope house hunt hunter in is it iv joy june just keen kind
  king knight lake lamb land lane last law lee little long love low mark marsh mason may mayor
  mill miller moon more moss much new nice night north now of on or over page park parker
  pearl penny pepper pink pool pope post power price pride prince rain read reed rich ridge
  rose rush sage salt sand say see shore short silver small smith snow south spring stand
  star steel stone storm strong summer sun swift taylor the their then there they this those
  tiny to tower turner under up very wall ward warren waters way webb well west white wild
  will wise wood woods wright young`.split(/\s+/),
);
