/** Liveness and readiness (`/health`, `/health/ready`), outside `/api/v1` and public. */
export { healthRoutes as healthModule, type Lifecycle } from './health.routes.js';
