// Pure reducer: download events -> what a progress bar shows.
import type { DownloadEvent } from '../api/types';

export type DownloadPhase =
  | 'starting'
  | 'downloading'
  | 'retrying'
  | 'verifying'
  | 'done'
  | 'paused'
  | 'failed';

export interface DownloadView {
  phase: DownloadPhase;
  doneBytes: number;
  totalBytes: number;
  bytesPerSecond: number | null;
  etaSeconds: number | null;
  attempt: number | null;
  waitSeconds: number | null;
  reason: string | null;
  path: string | null;
}

export function startingDownload(doneBytes = 0, totalBytes = 0): DownloadView {
  return {
    phase: 'starting',
    doneBytes,
    totalBytes,
    bytesPerSecond: null,
    etaSeconds: null,
    attempt: null,
    waitSeconds: null,
    reason: null,
    path: null,
  };
}

export function reduceDownload(view: DownloadView, ev: DownloadEvent): DownloadView {
  switch (ev.type) {
    case 'started':
      return { ...view, phase: 'downloading', doneBytes: ev.resumedFromBytes, totalBytes: ev.totalBytes };
    case 'progress':
      return {
        ...view,
        phase: 'downloading',
        doneBytes: ev.doneBytes,
        totalBytes: ev.totalBytes,
        bytesPerSecond: ev.bytesPerSecond,
        etaSeconds: ev.etaSeconds,
        attempt: null,
        waitSeconds: null,
        reason: null,
      };
    case 'retrying':
      return { ...view, phase: 'retrying', attempt: ev.attempt, waitSeconds: ev.waitSeconds, reason: ev.reason };
    case 'verifying':
      return { ...view, phase: 'verifying', doneBytes: ev.doneBytes, totalBytes: ev.totalBytes };
    case 'done':
      return { ...view, phase: 'done', doneBytes: view.totalBytes || view.doneBytes, path: ev.path };
    case 'paused':
      return { ...view, phase: 'paused', doneBytes: ev.doneBytes, totalBytes: ev.totalBytes, bytesPerSecond: null, etaSeconds: null };
  }
}

export function isActive(view: DownloadView | undefined): boolean {
  return !!view && (view.phase === 'starting' || view.phase === 'downloading' || view.phase === 'retrying' || view.phase === 'verifying');
}
