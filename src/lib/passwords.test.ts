import { availableParallelism } from 'node:os';
import { expect, it } from 'vitest';
import { hashPassword, passwordWork, verifyPassword } from './passwords.js';

it('runs at most cores - 1 Argon2id computations at once, leaving a core to the event loop', async () => {
  const slots = Math.max(1, availableParallelism() - 1);
  const work = Array.from({ length: slots + 3 }, (_, i) => hashPassword(`passphrase number ${i}`));
  await Promise.resolve();
  expect(passwordWork.active).toBe(slots);
  expect(passwordWork.waiting).toBe(3);
  const hashes = await Promise.all(work);
  expect(await verifyPassword(hashes[0] ?? '', 'passphrase number 0')).toEqual({
    ok: true,
    needsRehash: false,
  });
  expect(await verifyPassword('not-a-hash', 'whatever')).toEqual({ ok: false, needsRehash: false });
});
