import { ERROR_CODES, type AppError, type ErrorCode } from './types';

/** Turn whatever a rejected call produced into an AppError; unknown shapes become `internal`. */
export function toAppError(e: unknown): AppError {
  if (e && typeof e === 'object' && 'code' in e) {
    const obj = e as { code: unknown; message?: unknown };
    const code = ERROR_CODES.includes(obj.code as ErrorCode) ? (obj.code as ErrorCode) : 'internal';
    const message = typeof obj.message === 'string' ? obj.message : '';
    return { code, message };
  }
  if (e instanceof Error) return { code: 'internal', message: e.message };
  if (typeof e === 'string') return { code: 'internal', message: e };
  return { code: 'internal', message: '' };
}

/** What the UI does for an error code. Decided by code only, never by message text. */
export type ErrorAction =
  | 'go_to_models'
  | 'show_reasons'
  | 'ask_token'
  | 'busy'
  | 'disk_space'
  | 'import_instead'
  | 'load_pair'
  | 'none'
  | 'message';

export function errorAction(code: ErrorCode): ErrorAction {
  switch (code) {
    case 'model_missing':
      return 'go_to_models';
    case 'pair_incompatible':
      return 'show_reasons';
    case 'needs_token':
      return 'ask_token';
    case 'busy':
      return 'busy';
    case 'disk_full':
      return 'disk_space';
    case 'download_failed':
      return 'import_instead';
    case 'no_pair_loaded':
      return 'load_pair';
    case 'cancelled':
      return 'none';
    default:
      return 'message';
  }
}

export function isCancelled(e: unknown): boolean {
  return toAppError(e).code === 'cancelled';
}
