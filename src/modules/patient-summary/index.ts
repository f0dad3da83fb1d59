/**
 * The printable patient summary, composed from patients, appointments, prescriptions and users.
 * It has no routes of its own: GET /patients/{id}/summary.pdf is registered by the patients
 * module, which receives this function from buildApp (patients cannot import the modules that
 * import it).
 */
export { patientSummaryPdf } from './patient-summary.service.js';
