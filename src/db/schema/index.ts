export * from './users.js';
export * from './sessions.js';
export * from './patients.js';
export * from './appointments.js';
export * from './prescriptions.js';
export * from './security.js';
export * from './audit.js';
