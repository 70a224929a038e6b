// Time-unit words and drafter names in the active language.
import type { TimeUnits } from '../logic/format';
import { t } from './index.svelte';

export function timeUnits(): TimeUnits {
  return { s: t('unit.s'), min: t('unit.min'), h: t('unit.h') };
}

/** Plain name for a drafter as the shell reports it ('model', 'ngram', 'off', ...). */
export function drafterName(name: string | null | undefined): string {
  switch (name) {
    case 'model':
      return t('drafterName.model');
    case 'ngram':
      return t('drafterName.ngram');
    case 'hybrid':
    case 'auto':
      return t('drafterName.auto');
    case 'off':
    case 'none':
    case null:
    case undefined:
      return t('drafterName.off');
    default:
      return name;
  }
}
