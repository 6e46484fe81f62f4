import type { Runtime } from '../../core/plugin';
import { viaToken } from './api-auth';
import type { ApiTokensService } from './api-tokens.service';
import type { AuditModel } from './store.model';
import type { DashboardService } from './dashboard.service';
import type { HistoryService } from './history.service';
import type { InvitesService } from './invites.service';
import type { OrgService } from './org.service';
import type { RecomputeService } from './recompute.service';
import type { RosterService } from './roster.service';
import type { ScopeGuard } from './scope';
import type { SettingsService } from './settings.service';
import type { TrainedService } from './trained.service';
import type { SummaryService } from './summary.service';

/** The reports plugin's services, wired once in index.ts and handed to routes and commands. */
export interface Reports {
  rt: Runtime;
  org: OrgService;
  scope: ScopeGuard;
  settings: SettingsService;
  summaries: SummaryService;
  trained: TrainedService;
  recompute: RecomputeService;
  roster: RosterService;
  invites: InvitesService;
  dashboard: DashboardService;
  history: HistoryService;
  tokens: ApiTokensService;
  audit: AuditModel;
  uploadDir: string;
  maxUploadBytes: number;
}

export async function record(r: Reports, user: Express.User, action: string, format: string, scope: string, rows?: number): Promise<void> {
  const via = viaToken(user) ? 'token' : undefined;
  await r.audit.create({ at: new Date(), userId: user.id, email: user.email, action, format, scope, rows, ...(via && { via }) });
}
