/** The IPC messages between a bench run (parent) and its workers (`worker.ts` / `serve.ts`). */
export type ParentMessage = { t: 'call'; id: number; cmd: string; args?: unknown }
export type ChildMessage =
  | { t: 'ready'; data: unknown }
  | { t: 'reply'; id: number; ok: true; value: unknown }
  | { t: 'reply'; id: number; ok: false; error: string }
