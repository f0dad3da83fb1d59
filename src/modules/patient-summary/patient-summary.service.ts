import type { AppContext } from '../../context.js';
import type { AppointmentRow } from '../../db/schema/appointments.js';
import type { PatientRow } from '../../db/schema/patients.js';
import type { PrescriptionRow } from '../../db/schema/prescriptions.js';
import { requirePermission } from '../../lib/access.js';
import { loadPdfDocument } from '../../lib/pdf-document.js';
import { can } from '../../lib/permissions.js';
import {
  listRecentForPatient,
  listUpcomingForPatient,
} from '../appointments/patient-appointments.service.js';
import { recordAudit, whoOf } from '../audit/audit.service.js';
import { loadPatient, patientEvent } from '../patients/patients.service.js';
import type { PatientSummaryPdf } from '../patients/patients.summary.js';
import { listActiveForPatient } from '../prescriptions/prescriptions.service.js';
import { findAccount } from '../users/users.service.js';

/** Long free text is cut so the summary stays within one or two pages. */
const MAX_HISTORY_CHARS = 1_500;
const MAX_PRESCRIPTIONS = 15;

interface SummaryData {
  patient: PatientRow;
  medical: boolean;
  prescriptions: PrescriptionRow[] | undefined;
  upcoming: AppointmentRow[];
  recent: AppointmentRow[];
  names: Map<string, string>;
  timeZone: string;
  generatedAt: Date;
}

const dash = (value: string | null | undefined) =>
  value === null || value === undefined || value === '' ? '-' : value;

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}... (shortened; see the full record)`;
}

async function render(data: SummaryData): Promise<Buffer> {
  const PDFDocument = await loadPdfDocument();
  return new Promise((resolve, reject) => {
    // compress: false keeps the content streams readable (tests search them for text); a summary
    // is a few kilobytes either way.
    const doc = new PDFDocument({
      size: 'A4',
      margin: 48,
      compress: false,
      info: { Title: 'Patient summary', Creator: 'MedCore' },
    });
    const chunks: Buffer[] = [];
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => {
      resolve(Buffer.concat(chunks));
    });
    doc.on('error', reject);

    const when = new Intl.DateTimeFormat('en-GB', {
      timeZone: data.timeZone,
      dateStyle: 'medium',
      timeStyle: 'short',
    });
    const section = (title: string) => {
      doc.moveDown(0.6);
      doc.fontSize(13).fillColor('#000000').font('Helvetica-Bold').text(title);
      doc.font('Helvetica').moveDown(0.2);
    };
    const field = (label: string, value: string | null | undefined) => {
      doc.fontSize(10).fillColor('#555555').text(`${label}: `, { continued: true });
      doc.fillColor('#000000').text(dash(value));
    };
    const line = (text: string) => doc.fontSize(10).fillColor('#000000').text(text);
    const appointmentLine = (a: AppointmentRow) =>
      line(
        `${when.format(a.startsAt)} (${a.durationMinutes} min), ${a.status}, ` +
          `${data.names.get(a.doctorId) ?? a.doctorId}${a.reason ? ` - ${a.reason}` : ''}`,
      );

    const p = data.patient;
    doc.fontSize(18).font('Helvetica-Bold').text('Patient summary');
    doc.font('Helvetica').fontSize(12).text(`${p.firstName} ${p.lastName} - ${p.mrn}`);

    section('Demographics and contacts');
    field('Date of birth', p.dateOfBirth);
    field('Gender', p.gender);
    field('Email', p.email);
    field('Phone', p.phone);
    field('Address', p.address);
    field('Location', p.location);
    field('Group', p.group);
    field(
      'Assigned doctor',
      p.assignedDoctorId === null
        ? null
        : (data.names.get(p.assignedDoctorId) ?? p.assignedDoctorId),
    );
    field('Initial complaint', p.initialComplaint);
    field('Initial diagnosis', p.initialDiagnosis);

    section('Emergency contacts');
    if (p.emergencyContacts.length === 0) line('None recorded');
    for (const c of p.emergencyContacts) line(`${c.name} (${c.relationship}): ${c.phone}`);

    if (data.medical) {
      section('Allergies');
      line(p.allergies.length === 0 ? 'None recorded' : p.allergies.join(', '));
      section('Medical history');
      line(clip(dash(p.medicalHistory), MAX_HISTORY_CHARS));
    }

    if (data.prescriptions !== undefined) {
      section('Active prescriptions');
      const shown = data.prescriptions.slice(0, MAX_PRESCRIPTIONS);
      if (shown.length === 0) line('None');
      for (const rx of shown) {
        line(`${rx.medication} ${rx.dosage}, ${rx.frequency}${rx.route ? `, ${rx.route}` : ''}`);
      }
      if (data.prescriptions.length > shown.length) line('More are listed in the record.');
    }

    section('Upcoming appointments');
    if (data.upcoming.length === 0) line('None');
    data.upcoming.forEach(appointmentLine);
    section('Recent appointments');
    if (data.recent.length === 0) line('None');
    data.recent.forEach(appointmentLine);

    doc.moveDown();
    doc
      .fontSize(8)
      .fillColor('#555555')
      .text(
        `Generated ${data.generatedAt.toISOString()} (times in ${data.timeZone}). ` +
          'Confidential patient information.',
      );
    doc.end();
  });
}

/** Display names of the doctors the summary mentions (an unknown id is shown as is). */
async function doctorNames(
  ctx: Pick<AppContext, 'db'>,
  ids: Iterable<string>,
): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  await Promise.all(
    [...new Set(ids)].map(async (id) => {
      const account = await findAccount(ctx, id);
      if (account) names.set(id, account.fullName ?? account.username);
    }),
  );
  return names;
}

/**
 * A printable one-to-two-page summary of a patient. Medical fields only for roles that may read
 * them, active prescriptions only for roles that may read prescriptions; one `patient.export`
 * audit row covers everything in it and is written before the document is built.
 */
export const patientSummaryPdf: PatientSummaryPdf = async (ctx, actor, id) => {
  requirePermission(actor, 'patients.manage');
  const patient = await loadPatient(ctx, id);
  const medical = can(actor.role, 'patients.medical.read');
  await recordAudit(
    ctx.db,
    whoOf(actor),
    patientEvent('patient.export', id, { format: 'pdf', medical_fields: medical }),
  );
  const [upcoming, recent, prescriptions] = await Promise.all([
    listUpcomingForPatient(ctx, actor, id),
    listRecentForPatient(ctx, actor, id),
    can(actor.role, 'prescriptions.read')
      ? listActiveForPatient(ctx, actor, id, MAX_PRESCRIPTIONS + 1)
      : Promise.resolve(undefined),
  ]);
  const doctorIds = [...upcoming, ...recent].map((a) => a.doctorId);
  if (patient.assignedDoctorId !== null) doctorIds.push(patient.assignedDoctorId);
  const pdf = await render({
    patient,
    medical,
    prescriptions,
    upcoming,
    recent,
    names: await doctorNames(ctx, doctorIds),
    timeZone: ctx.config.clinicTimeZone,
    generatedAt: ctx.clock.now(),
  });
  return { mrn: patient.mrn, pdf };
};
