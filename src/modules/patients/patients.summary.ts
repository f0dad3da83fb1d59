import type { AppContext } from '../../context.js';
import type { Principal } from '../../lib/permissions.js';

/**
 * GET /patients/{id}/summary.pdf: the printable summary of a patient. Its route is here, with the
 * other patient URLs, but it is composed in src/modules/patient-summary: it reads appointments
 * and prescriptions, which depend on patients, so patients cannot import them. buildApp passes
 * the composition to this module's plugin.
 */
export type PatientSummaryPdf = (
  ctx: Pick<AppContext, 'db' | 'clock' | 'config'>,
  actor: Principal,
  id: string,
) => Promise<{ mrn: string; pdf: Buffer }>;
