import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import { patients } from '../../db/schema/patients.js';
import type { KnownIdentifiers } from './redaction.js';

/*
 * Which candidate words of a prompt are patient names or MRNs. Read straight from the patients
 * table rather than through the patients service: this is not a use case on patients (nobody
 * reads a record, nothing is audited) but a membership test whose answers never leave the
 * server, and it must not fail on the caller's permissions (a `user` may not read patients, yet
 * their prompt must be redacted too).
 *
 * Only the candidates are sent (one JSON parameter, whatever their number), and only matching
 * words come back, never patient rows. Soft-deleted patients count: they are still people.
 * The name comparison is on lower(first_name) / lower(last_name), each served by an expression
 * index (migration 0013): one index probe per candidate word, whatever the practice's size.
 */

export async function findKnownIdentifiers(
  db: DbOrTx,
  candidates: { names: string[]; mrns: string[] },
): Promise<KnownIdentifiers> {
  const nameWords = new Set<string>();
  const surnameWords = new Set<string>();
  const mrns = new Set<string>();
  if (candidates.names.length > 0) {
    const list = JSON.stringify(candidates.names);
    const rows = await db
      .selectDistinct({
        name: sql<string>`lower(${patients.firstName})`,
        surname: sql<boolean>`false`,
      })
      .from(patients)
      .where(sql`lower(${patients.firstName}) in (select json_array_elements_text(${list}::json))`)
      .union(
        db
          .selectDistinct({
            name: sql<string>`lower(${patients.lastName})`,
            surname: sql<boolean>`true`,
          })
          .from(patients)
          .where(
            sql`lower(${patients.lastName}) in (select json_array_elements_text(${list}::json))`,
          ),
      );
    // "Mary Ann" matched as a phrase: each of its words is a name word on its own too.
    for (const { name, surname } of rows) {
      for (const word of name.split(/\s+/)) {
        nameWords.add(word);
        if (surname) surnameWords.add(word);
      }
    }
  }
  if (candidates.mrns.length > 0) {
    const list = JSON.stringify(candidates.mrns);
    const rows = await db
      .select({ mrn: patients.mrn })
      .from(patients)
      .where(sql`upper(${patients.mrn}) in (select json_array_elements_text(${list}::json))`);
    for (const { mrn } of rows) mrns.add(mrn.toUpperCase());
  }
  return { nameWords, surnameWords, mrns };
}
