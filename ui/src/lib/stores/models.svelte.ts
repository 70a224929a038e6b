// Models, pairs, downloads and the loaded pair.
import * as api from '../api/backend';
import { toAppError } from '../api/errors';
import type {
  AppError,
  LoadedPair,
  ModelEntry,
  PairEntry,
  PairReport,
  Recommendation,
} from '../api/types';
import { reduceDownload, startingDownload, type DownloadView } from '../logic/downloads';

export interface LoadProgress {
  target: number;
  draft: number;
  which: 'target' | 'draft' | null;
}

class ModelsStore {
  models = $state<ModelEntry[]>([]);
  pairs = $state<PairEntry[]>([]);
  recommendation = $state<Recommendation | null>(null);
  current = $state<LoadedPair | null>(null);
  downloads = $state<Record<string, DownloadView>>({});
  /** errors from downloads, by model id */
  downloadErrors = $state<Record<string, AppError>>({});
  loading = $state<LoadProgress | null>(null);
  loadError = $state<AppError | null>(null);
  /** reasons shown when a load failed with pair_incompatible */
  loadReasons = $state<string[]>([]);
  error = $state<AppError | null>(null);
  report = $state<{ draft: string; target: string; report: PairReport } | null>(null);
  loaded = $state(false);

  model(id: string): ModelEntry | undefined {
    return this.models.find((m) => m.id === id);
  }

  nameOf(id: string | null): string {
    if (id === null) return '';
    return this.model(id)?.name ?? id;
  }

  async refresh(): Promise<void> {
    try {
      const [models, pairs, current] = await Promise.all([
        api.modelsList(),
        api.pairsList(),
        api.pairCurrent(),
      ]);
      this.models = models;
      this.pairs = pairs;
      this.current = current;
      this.error = null;
    } catch (e) {
      this.error = toAppError(e);
    } finally {
      this.loaded = true;
    }
  }

  async refreshModels(): Promise<void> {
    try {
      this.models = await api.modelsList();
    } catch (e) {
      this.error = toAppError(e);
    }
  }

  async recommend(): Promise<void> {
    try {
      this.recommendation = await api.modelsRecommend();
    } catch (e) {
      this.error = toAppError(e);
    }
  }

  /** Start or resume a download. Resolves true when the file is verified and in place. */
  async download(id: string): Promise<boolean> {
    const m = this.model(id);
    this.downloads[id] = startingDownload(m?.downloadedBytes ?? 0, m?.sizeBytes ?? 0);
    delete this.downloadErrors[id];
    try {
      await api.modelDownload(id, (ev) => {
        const view = this.downloads[id] ?? startingDownload();
        this.downloads[id] = reduceDownload(view, ev);
      });
      delete this.downloads[id];
      await this.refreshModels();
      return true;
    } catch (e) {
      const err = toAppError(e);
      const view = this.downloads[id];
      if (err.code === 'cancelled') {
        // A pause leaves a 'paused' view (resume = download again); a cancel clears it.
        if (!view || view.phase !== 'paused') delete this.downloads[id];
      } else {
        if (view) this.downloads[id] = { ...view, phase: 'failed' };
        this.downloadErrors[id] = err;
      }
      await this.refreshModels();
      return false;
    }
  }

  async pause(id: string): Promise<void> {
    try {
      await api.modelDownloadPause(id);
    } catch (e) {
      this.downloadErrors[id] = toAppError(e);
    }
  }

  async cancel(id: string): Promise<void> {
    try {
      await api.modelDownloadCancel(id);
      delete this.downloads[id];
      delete this.downloadErrors[id];
      await this.refreshModels();
    } catch (e) {
      this.downloadErrors[id] = toAppError(e);
    }
  }

  async remove(id: string): Promise<void> {
    try {
      await api.modelRemove(id);
      await this.refresh();
    } catch (e) {
      this.error = toAppError(e);
    }
  }

  async importFile(): Promise<ModelEntry | null> {
    try {
      const path = await api.pickGgufFile();
      if (!path) return null;
      const entry = await api.modelImport(path);
      await this.refresh();
      return entry;
    } catch (e) {
      this.error = toAppError(e);
      return null;
    }
  }

  async check(draft: string, target: string): Promise<PairReport | null> {
    try {
      const report = await api.pairCheck(draft, target);
      this.report = { draft, target, report };
      return report;
    } catch (e) {
      this.error = toAppError(e);
      return null;
    }
  }

  async load(target: string, draft: string | null): Promise<boolean> {
    this.loading = { target: 0, draft: 0, which: null };
    this.loadError = null;
    this.loadReasons = [];
    try {
      this.current = await api.pairLoad(target, draft, (ev) => {
        if (!this.loading) return;
        if (ev.type === 'loading') {
          this.loading = { ...this.loading, [ev.which]: ev.fraction, which: ev.which };
        } else {
          this.loading = { target: 1, draft: 1, which: null };
        }
      });
      return true;
    } catch (e) {
      const err = toAppError(e);
      this.loadError = err;
      if (err.code === 'pair_incompatible' && draft !== null) {
        try {
          this.loadReasons = (await api.pairCheck(draft, target)).reasons;
        } catch {
          this.loadReasons = [];
        }
      }
      return false;
    } finally {
      this.loading = null;
    }
  }

  async unload(): Promise<void> {
    try {
      await api.pairUnload();
      this.current = null;
    } catch (e) {
      this.error = toAppError(e);
    }
  }

  reset(): void {
    this.models = [];
    this.pairs = [];
    this.recommendation = null;
    this.current = null;
    this.downloads = {};
    this.downloadErrors = {};
    this.loading = null;
    this.loadError = null;
    this.loadReasons = [];
    this.error = null;
    this.report = null;
    this.loaded = false;
  }
}

export const models = new ModelsStore();
