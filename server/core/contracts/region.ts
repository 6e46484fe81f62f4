/**
 * What the `network` plugin offers the `reports` dashboard: the region's share trained, to set
 * beside the country's own ("your country vs the region"). Counts only — what the countries
 * signed and published, already suppressed.
 */
export interface RegionFigures {
  /** Countries whose whole-programme total is in the sum, of those the source holds. */
  countries: number;
  of: number;
  servants: number;
  trained: number;
  share: number | null;
  /** The latest month any summed country published (YYYY-MM). */
  month: string;
}

export interface RegionComparison {
  /** Where the regional figure comes from: a hub's URL, or this instance's own observatory. */
  source: string;
  /** Null when the source could not be read (hub down, unreadable answer, no country yet). */
  region: RegionFigures | null;
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
