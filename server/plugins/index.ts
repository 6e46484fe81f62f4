import type { Plugin } from '../core/plugin';
import { accountsPlugin } from './accounts';
import { lrsPlugin } from './lrs';
import { catalogPlugin } from './catalog';
import { certificatesPlugin } from './certificates';
import { reportsPlugin } from './reports';
import { privacyPlugin } from './privacy';
import { networkPlugin } from './network';
import { notificationsPlugin } from './notifications';

/**
 * Every plugin this server knows, listed explicitly (no magic file discovery). The loader
 * orders them by their declared dependencies; PLUGINS chooses which are enabled.
 */
export const allPlugins: Plugin[] = [
  accountsPlugin,
  lrsPlugin,
  catalogPlugin,
  certificatesPlugin,
  reportsPlugin,
  privacyPlugin,
  networkPlugin,
  notificationsPlugin,
];
