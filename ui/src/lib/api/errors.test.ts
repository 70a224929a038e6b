import { describe, expect, it } from 'vitest';
import { errorAction, isCancelled, toAppError } from './errors';

describe('toAppError', () => {
  it('keeps the shell error shape', () => {
    expect(toAppError({ code: 'disk_full', message: 'No room.' })).toEqual({ code: 'disk_full', message: 'No room.' });
  });
  it('maps unknown codes and other throwables to internal', () => {
    expect(toAppError({ code: 'weird', message: 'x' }).code).toBe('internal');
    expect(toAppError(new Error('boom'))).toEqual({ code: 'internal', message: 'boom' });
    expect(toAppError('text')).toEqual({ code: 'internal', message: 'text' });
    expect(toAppError(undefined)).toEqual({ code: 'internal', message: '' });
  });
  it('detects cancellation by code', () => {
    expect(isCancelled({ code: 'cancelled', message: '' })).toBe(true);
    expect(isCancelled({ code: 'internal', message: 'cancelled' })).toBe(false);
  });
});

describe('errorAction', () => {
  it('acts on the code, as the contract says', () => {
    expect(errorAction('model_missing')).toBe('go_to_models');
    expect(errorAction('pair_incompatible')).toBe('show_reasons');
    expect(errorAction('needs_token')).toBe('ask_token');
    expect(errorAction('busy')).toBe('busy');
    expect(errorAction('disk_full')).toBe('disk_space');
    expect(errorAction('download_failed')).toBe('import_instead');
    expect(errorAction('no_pair_loaded')).toBe('load_pair');
    expect(errorAction('cancelled')).toBe('none');
    expect(errorAction('store')).toBe('message');
    expect(errorAction('internal')).toBe('message');
  });
});
