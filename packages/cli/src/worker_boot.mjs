// Entry of the worker threads (see pool.ts). Under `node --import tsx`, node 20 does not apply
// the parent's module hooks to worker threads, so TypeScript would not load: register tsx's
// loader here when needed, then start the TypeScript worker. (The retry uses a query string
// because node caches the failed import of the plain URL.)
try {
  await import('./worker.ts');
} catch (e) {
  if (e?.code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw e;
  const { register } = await import('tsx/esm/api');
  register();
  await import('./worker.ts?tsx');
}
