import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppContext } from '../../context.js';
import { actorOf } from '../../plugins/auth.js';
import { openEventStream, type EventStream } from '../../plugins/sse.js';
import type { AppointmentDto } from './appointments.schemas.js';
import { appointmentForCaller, openAppointmentStream } from './appointments.service.js';

const RECONNECT_MS = 1_000;

/**
 * `GET /appointments/events`: the appointment changes as server-sent events, from the outbox.
 * Each message is one event: `id` its outbox id, `event` its topic, `data` the appointment as
 * `GET /appointments/{id}` shows it to this caller. `Last-Event-ID` replays what was missed from
 * the table, on any instance. The session is checked again often enough that a revoked one is
 * cut off within 1 s (the check interval plus AUTH_CACHE_MS on another instance). On shutdown
 * every stream is told to reconnect (elsewhere) and ended.
 */
export const appointmentEventsRoutes: FastifyPluginAsyncTypebox<{
  ctx: Pick<AppContext, 'db' | 'config' | 'outbox'>;
}> = async (app, opts) => {
  const { ctx } = opts;
  const streams = new Set<EventStream>();
  const sessionCheckMs = Math.max(100, 1_000 - ctx.config.authCacheMs);
  app.addHook('preClose', async () => {
    for (const stream of streams) stream.close(RECONNECT_MS);
    await Promise.resolve();
  });

  app.get(
    '/appointments/events',
    {
      config: { access: 'appointments.read' },
      schema: {
        tags: ['appointments'],
        summary:
          'Server-sent events of appointment changes (id, event appointment.<change>, data the appointment); Last-Event-ID resumes',
        headers: Type.Object({
          'last-event-id': Type.Optional(
            Type.String({ pattern: '^[0-9]{1,15}$', description: 'the last event id received' }),
          ),
        }),
        response: {
          200: {
            description: 'text/event-stream; comment heartbeats (`: ping`) while idle',
            content: { 'text/event-stream': { schema: Type.String() } },
          },
        },
      },
    },
    async (request, reply) => {
      const actor = actorOf(request);
      const header = request.headers['last-event-id'];
      const afterId = header === undefined ? undefined : Number(header);
      await openAppointmentStream(ctx, actor, afterId);

      const started = performance.now();
      const stream = openEventStream(request, reply, {
        heartbeatMs: ctx.config.sseHeartbeatMs,
        retryMs: RECONNECT_MS,
      });
      streams.add(stream);
      let unsubscribe: (() => void) | undefined;
      let checking = false;
      const check = setInterval(() => {
        if (checking || stream.closed) return;
        checking = true;
        const verdict = request.stillAuthenticated?.() ?? Promise.resolve(false);
        verdict
          .then((ok) => {
            if (!ok) stream.close();
          })
          // A database outage ends the stream; the client reconnects and authenticates again.
          .catch(() => {
            stream.close(RECONNECT_MS);
          })
          .finally(() => {
            checking = false;
          });
      }, sessionCheckMs);
      check.unref();
      stream.onClose(() => {
        clearInterval(check);
        unsubscribe?.();
        streams.delete(stream);
        // The reply was hijacked: the usual per-request log line is written here instead.
        request.log.info(
          {
            method: request.method,
            route: request.routeOptions.url,
            status: 200,
            duration_ms: Math.round(performance.now() - started),
            user_id: actor.userId,
          },
          'event stream closed',
        );
      });
      try {
        unsubscribe = await ctx.outbox.feed.subscribe(
          {
            topicPrefix: 'appointment.',
            // Events after the client's Last-Event-ID were pruned: it must reload what it shows.
            expired: () => {
              stream.send(undefined, 'reset', JSON.stringify({ reason: 'events_expired' }));
            },
            send: (event) => {
              try {
                const view = appointmentForCaller(actor, event.payload as AppointmentDto);
                stream.send(event.id, event.topic, JSON.stringify(view));
              } catch (error) {
                // Never one subscriber's failure in the shared feed: this stream ends instead.
                request.log.warn({ err: error, event_id: event.id }, 'event stream failed');
                stream.close(RECONNECT_MS);
              }
            },
          },
          afterId,
        );
        if (stream.closed) unsubscribe();
      } catch (error) {
        request.log.warn({ err: error }, 'could not start an event stream');
        stream.close(RECONNECT_MS);
      }
    },
  );
};
