import { useQuery } from '@tanstack/react-query';
import { isProblem, type Problem } from '@medcore/client';
import { api } from '../api/client';
import { ApiError, dataOrThrow } from './problem';

/** A doctor's free slots of a day (GET /doctors/{id}/availability), for booking and moving. */
export function useAvailability(doctorId: string, day: string, duration: number) {
  return useQuery({
    queryKey: ['availability', doctorId, day, duration],
    enabled: doctorId !== '' && day !== '',
    queryFn: async () =>
      dataOrThrow(
        await api.GET('/api/v1/doctors/{id}/availability', {
          params: { path: { id: doctorId }, query: { date: day, duration_minutes: duration } },
        }),
      ),
  });
}

/** The appointment in the way of a refused booking or move (when the caller may read it). */
export async function holderOf(problem: { conflicting_appointment_id?: string } | undefined) {
  const id = problem?.conflicting_appointment_id;
  if (!id) return undefined;
  const answer = await api.GET('/api/v1/appointments/{id}', { params: { path: { id } } });
  return answer.data;
}

export type Holder = NonNullable<Awaited<ReturnType<typeof holderOf>>>;

/** A refused booking or move; on a conflict (409), the appointment in the way. */
export class BookingError extends ApiError {
  constructor(
    status: number,
    problem: Problem | undefined,
    readonly holder: Holder | undefined,
  ) {
    super(status, problem);
  }
}

/** The error to throw for a refused booking or move: a 409 looks up who holds the slot. */
export async function bookingError(answer: {
  error?: unknown;
  response: Response;
}): Promise<BookingError> {
  const problem = isProblem(answer.error) ? answer.error : undefined;
  const status = answer.response.status;
  return new BookingError(status, problem, status === 409 ? await holderOf(problem) : undefined);
}

/** Reads an appointment with the ETag a reschedule must send back as If-Match. */
export async function fetchAppointment(id: string) {
  const answer = await api.GET('/api/v1/appointments/{id}', { params: { path: { id } } });
  return {
    appointment: dataOrThrow(answer),
    etag: answer.response.headers.get('etag') ?? undefined,
  };
}
