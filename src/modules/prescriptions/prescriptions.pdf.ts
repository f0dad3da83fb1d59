import { recordAudit, whoOf } from '../audit/audit.service.js';
import type { AppContext } from '../../context.js';
import { requirePermission } from '../../lib/access.js';
import { loadPdfDocument } from '../../lib/pdf-document.js';
import type { Principal } from '../../lib/permissions.js';
import { loadPatient } from '../patients/patients.service.js';
import { findAccount } from '../users/users.service.js';
import { loadPrescription, prescriptionEvent } from './prescriptions.service.js';

async function render(lines: [string, string][], title: string, footer: string): Promise<Buffer> {
  const PDFDocument = await loadPdfDocument();
  return new Promise((resolve, reject) => {
    // Fixed metadata dates keep the file free of anything but the prescription itself.
    const doc = new PDFDocument({
      size: 'A4',
      margin: 56,
      info: { Title: title, Creator: 'MedCore' },
    });
    const chunks: Buffer[] = [];
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => {
      resolve(Buffer.concat(chunks));
    });
    doc.on('error', reject);
    doc.fontSize(18).text(title);
    doc.moveDown();
    for (const [label, value] of lines) {
      doc.fontSize(10).fillColor('#555555').text(label);
      doc
        .fontSize(12)
        .fillColor('#000000')
        .text(value === '' ? '-' : value);
      doc.moveDown(0.5);
    }
    doc.moveDown();
    doc.fontSize(9).fillColor('#555555').text(footer);
    doc.end();
  });
}

/** A printable prescription (PDF) for clinical staff. */
export async function prescriptionPdf(
  ctx: Pick<AppContext, 'db'>,
  actor: Principal,
  id: string,
): Promise<Buffer> {
  requirePermission(actor, 'prescriptions.read');
  const row = await loadPrescription(ctx, id);
  await recordAudit(
    ctx.db,
    whoOf(actor),
    prescriptionEvent('prescription.export', row, { format: 'pdf' }),
  );
  const [patient, prescriber] = await Promise.all([
    loadPatient(ctx, row.patientId).catch(() => undefined),
    findAccount(ctx, row.prescriberId),
  ]);
  const lines: [string, string][] = [
    ['Patient', patient ? `${patient.firstName} ${patient.lastName}` : 'record deleted'],
    ['MRN', patient?.mrn ?? ''],
    ['Date of birth', patient?.dateOfBirth ?? ''],
    ['Medication', row.medication],
    ['Dosage', row.dosage],
    ['Route', row.route ?? ''],
    ['Frequency', row.frequency],
    ['Duration (days)', row.durationDays?.toString() ?? ''],
    ['Quantity', row.quantity?.toString() ?? ''],
    ['Refills', row.refills.toString()],
    ['Instructions', row.instructions ?? ''],
    ['Status', row.status],
    ['Prescriber', prescriber?.fullName ?? prescriber?.username ?? row.prescriberId],
    ['Issued', row.createdAt.toISOString().slice(0, 10)],
  ];
  for (const warning of row.warnings) lines.push(['Allergy warning', warning.message]);
  return render(lines, 'Prescription', `Prescription ${row.id}`);
}
