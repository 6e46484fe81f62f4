import { Schema, type Connection, type Model } from 'mongoose';

/** Text by language (`es`, `pt`, `en`, …: language tags have no dots, so they are safe keys). */
export type Texts = Record<string, string>;

/** What a feed says about one course version. Also the shape stored for a peer's courses. */
export interface FeedCourse {
  id: string;
  version: number;
  title: Texts;
  description: Texts;
  languages: string[];
  tiers: string[];
  levels: string[];
  topics: string[];
  hours: number;
  license: string;
  /** Lower-case hex SHA-256 of the package zip. */
  sha256: string;
  size: number;
  /** Package URL, relative to the feed's URL. */
  package: string;
  publishedAt: string;
}

/** A course this instance publishes: the version, its package hash and licence at publication. */
export interface Published extends FeedCourse {
  _id: string; // course IRI
}

/** A subscribed peer instance: its URL and the key pinned when an admin added it. */
export interface Peer {
  _id: string; // normalised base URL
  jwk: Record<string, unknown>;
  thumbprint: string;
  publisher?: string;
  country?: string;
  addedAt: Date;
  syncedAt?: Date;
  lastError?: string;
  courses: number;
}

/** A course of a peer's verified feed (the federated catalogue). */
export interface RemoteCourse extends FeedCourse {
  _id: string; // `${peer}|${course id}`
  peer: string;
  publisher: string;
  origin: string;
  /** Absolute package URL (the feed's relative one, resolved against the peer's URL). */
  packageUrl: string;
}

/** A verified indicator set (a peer's, or this instance's own, `_id` 'self'). */
export interface IndicatorSet {
  _id: string;
  country: string;
  publisher: string;
  generatedAt: Date;
  /** The signed document as received: anyone can re-verify it later. */
  jws: Record<string, unknown>;
  payload: Record<string, unknown>;
  verifiedAt: Date;
  /** How a peer's set arrived: pulled by the hub's sync, or pushed by the country (indicator-push.ts). */
  via?: 'pull' | 'push';
}

/**
 * What the observatory page needs of a set, kept beside it when it is stored (summaries.ts): the
 * page reads these small documents and the one row per country it compares, not every signed set.
 */
export interface IndicatorSummary {
  _id: string; // the set's _id
  country: string;
  publisher: string;
  origin: string;
  generatedAt: Date;
  verifiedAt: Date;
  k: number;
  rule: Record<string, unknown>;
  baselineDate?: string;
  targets: { share: number; baselineFactor: number };
  months: string[];
  levels: string[];
  tiers: string[];
}

/** One level × tier × decision-maker row of a stored set, `_id` `${set}|${level}|${tier}|${dm}`. */
export interface IndicatorSummaryRow {
  _id: string;
  set: string;
  level: string;
  tier: string;
  dm: string;
  suppressed?: true;
  servants?: number;
  trained?: number[];
  baselineTrained?: number;
}

/** How the last push of our indicator set to a hub went, `_id` the hub's URL. */
export interface HubPush {
  _id: string;
  at: Date;
  /** When the pushed set was signed. */
  generatedAt: Date;
  /** The hub's HTTP status; absent when it could not be reached. */
  status?: number;
  accepted: boolean;
  /** What the hub said (its error message when it refused), or why it could not be reached. */
  message: string;
}

const mixed = { type: Schema.Types.Mixed };
const feedFields = {
  id: { type: String, required: true },
  version: { type: Number, required: true },
  title: mixed,
  description: mixed,
  languages: [String],
  tiers: [String],
  levels: [String],
  topics: [String],
  hours: Number,
  license: String,
  sha256: String,
  size: Number,
  package: String,
  publishedAt: String,
};

export function networkModels(db: Connection) {
  const model = <T>(name: string, schema: Schema<T>) => (db.models[name] as Model<T>) ?? db.model<T>(name, schema);
  const published = model(
    'NetworkPublished',
    new Schema<Published>({ _id: String, ...feedFields }, { collection: 'network_published', versionKey: false, minimize: false }),
  );
  const peers = model(
    'NetworkPeer',
    new Schema<Peer>(
      {
        _id: String,
        jwk: mixed,
        thumbprint: String,
        publisher: String,
        country: String,
        addedAt: Date,
        syncedAt: Date,
        lastError: String,
        courses: { type: Number, default: 0 },
      },
      { collection: 'network_peers', versionKey: false },
    ),
  );
  const remoteSchema = new Schema<RemoteCourse>(
    { _id: String, ...feedFields, peer: String, publisher: String, origin: String, packageUrl: String },
    { collection: 'network_remote_courses', versionKey: false, minimize: false },
  );
  // A sync replaces one peer's courses.
  remoteSchema.index({ peer: 1 });
  const remote = model('NetworkRemoteCourse', remoteSchema);
  const indicators = model(
    'NetworkIndicatorSet',
    new Schema<IndicatorSet>(
      { _id: String, country: String, publisher: String, generatedAt: Date, jws: mixed, payload: mixed, verifiedAt: Date, via: String },
      { collection: 'network_indicator_sets', versionKey: false, minimize: false },
    ),
  );
  const summaries = model(
    'NetworkIndicatorSummary',
    new Schema<IndicatorSummary>(
      {
        _id: String,
        country: String,
        publisher: String,
        origin: String,
        generatedAt: Date,
        verifiedAt: Date,
        k: Number,
        rule: mixed,
        baselineDate: String,
        targets: mixed,
        months: [String],
        levels: [String],
        tiers: [String],
      },
      { collection: 'network_indicator_summaries', versionKey: false, minimize: false },
    ),
  );
  const summaryRowSchema = new Schema<IndicatorSummaryRow>(
    {
      _id: String,
      set: String,
      level: String,
      tier: String,
      dm: String,
      suppressed: Boolean,
      servants: Number,
      trained: [Number],
      baselineTrained: Number,
    },
    { collection: 'network_indicator_rows', versionKey: false },
  );
  // The exports read one set's rows at a time.
  summaryRowSchema.index({ set: 1 });
  const summaryRows = model('NetworkIndicatorSummaryRow', summaryRowSchema);
  /** Counters: `remote` moves whenever the federated catalogue changes (processes reload their index). */
  const state = model(
    'NetworkState',
    new Schema<{ _id: string; gen: number }>({ _id: String, gen: Number }, { collection: 'network_state', versionKey: false }),
  );
  /** Instances that asked to be told when this one's feed changes (push.ts). */
  const subscribers = model(
    'NetworkSubscriber',
    new Schema<{ _id: string; addedAt: Date }>({ _id: String, addedAt: Date }, { collection: 'network_subscribers', versionKey: false }),
  );
  /** The last push of this instance's indicator set to each hub of NETWORK_HUBS (indicator-push.ts). */
  const hubPushes = model(
    'NetworkHubPush',
    new Schema<HubPush>(
      { _id: String, at: Date, generatedAt: Date, status: Number, accepted: Boolean, message: String },
      { collection: 'network_hub_pushes', versionKey: false },
    ),
  );
  return { published, peers, remote, indicators, summaries, summaryRows, state, subscribers, hubPushes };
}

export type NetworkModels = ReturnType<typeof networkModels>;
