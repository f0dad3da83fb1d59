import { join } from 'node:path';
import { eq, isNull } from 'drizzle-orm';
import { afterAll, expect, it } from 'vitest';
import {
  appOn,
  newPlace,
  openPlace,
  placeStorage,
  removeTempDirs,
  tempDir,
} from '../../test/backup-support.js';
import { bearer, createUser } from '../../test/helpers.js';
import { auditLog } from '../db/schema/audit.js';
import { countUnsealed, verifyChain } from '../modules/audit/audit.repository.js';
import { sealPending } from '../modules/audit/audit.sealer.js';
import { backupDatabase } from './backup.js';
import { restoreDatabase } from './restore.js';

afterAll(removeTempDirs);

/**
 * A backup of a running server may hold audit rows not yet sealed. Their transaction ids belong
 * to the source database; restored, they are due at once (tx_id 0) and seal into a chain that
 * verifies, in their seq order after every row that was already sealed.
 */
// Two fresh databases (one on disk) and an app: heavier than most tests, so a longer limit.
it('unsealed audit rows of a backup are sealed after restore', { timeout: 120_000 }, async () => {
  const source = await newPlace('pglite', true);
  const file = join(await tempDir(), 'unsealed.medcore.gz');
  const app = await appOn(source);
  try {
    const admin = await createUser(app, 'admin');
    await sealPending(app.ctx.db);
    for (let i = 0; i < 3; i++) {
      await app.inject({
        method: 'GET',
        url: '/api/v1/admin/stats',
        headers: bearer(admin.accessToken),
      });
      await app.inject({
        method: 'POST',
        url: '/api/v1/patients',
        headers: bearer(admin.accessToken),
        payload: { first_name: 'Un', last_name: `Sealed${i}` },
      });
    }
    expect(await countUnsealed(app.ctx.db)).toBeGreaterThanOrEqual(3);
    await backupDatabase(app.ctx.db, file, { content: false });
  } finally {
    await app.close();
    await source.dispose();
  }

  const target = await newPlace('pglite');
  try {
    const database = await openPlace(target);
    const storage = await placeStorage(target);
    try {
      await restoreDatabase(database, file, { storage });
      const unsealed = await database.db.select().from(auditLog).where(isNull(auditLog.chainPos));
      expect(unsealed.length).toBeGreaterThanOrEqual(3);
      expect(unsealed.every((row) => row.txId === 0)).toBe(true);
      await sealPending(database.db);
      expect(await countUnsealed(database.db)).toBe(0);
      expect(await verifyChain(database.db)).toMatchObject({ firstBroken: null });
      const [first] = await database.db
        .select({ pos: auditLog.chainPos })
        .from(auditLog)
        .where(eq(auditLog.seq, unsealed[0]?.seq ?? -1));
      expect(first?.pos).toBeGreaterThan(0);
    } finally {
      await storage.close();
      await database.close();
    }
  } finally {
    await target.dispose();
  }
});
