/**
 * What the `network` plugin offers the `reports` dashboard: the region's share trained, to set
 * beside the country's own ("your country vs the region") — for the whole programme and for the
 * breakdowns the countries' indicator sets carry (level of government, role tier,
 * decision-makers). Counts only — what the countries signed and published, already suppressed.
 */
export interface RegionFigures {
  /** Countries whose figure for this group is in the sum, of those the sources hold. */
  countries: number;
  of: number;
  servants: number;
  trained: number;
  share: number | null;
  /** The latest month any summed country published (YYYY-MM). */
  month: string;
}

/** The region by group; a group no country publishes (or only confidentially) is absent. */
export interface RegionGroups {
  /** The whole programme (every level, tier and decision-maker value). */
  total?: RegionFigures;
  /** By level of government code (`national`, …), every tier. */
  byLevel: Record<string, RegionFigures>;
  /** By role tier code, every level. */
  byTier: Record<string, RegionFigures>;
  /** Decision-makers only, every level and tier. */
  decisionMakers?: RegionFigures;
}

export interface RegionComparison {
  /** `hubs`: read from NETWORK_HUBS; `self`: this instance's own observatory (it is a hub). */
  source: 'hubs' | 'self';
  /** Every hub asked and whether it answered something readable (empty for `self`). */
  hubs: Array<{ url: string; answered: boolean }>;
  /** Null when no source could be read (every hub down or unreadable, no country yet). */
  region: RegionGroups | null;
}

export interface RegionSource {
  /** Undefined when there is no region to compare with (no hub configured and not a hub). */
  compare(): Promise<RegionComparison | undefined>;
}

declare module '../services' {
  interface Services {
    'network.region': RegionSource;
  }
}
