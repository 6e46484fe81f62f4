import { Schema, type Connection, type Model } from 'mongoose';
import { LEVELS } from '../../core/taxonomy';

export const UNIT_KINDS = ['country', 'level', 'institution', 'unit'] as const;
export type UnitKind = (typeof UNIT_KINDS)[number];

/** Codes become summary-document keys, so they may not hold '.' or start with '$' (FerretDB/MongoDB key rules). */
export const UNIT_CODE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

export interface OrgUnit {
  _id: string; // the unit's code: every read of the tree is an _id lookup or the one cached scan
  name: string;
  parent: string | null;
  kind: UnitKind;
  level?: (typeof LEVELS)[number];
  updatedAt?: Date;
}

const unitSchema = new Schema<OrgUnit>(
  {
    _id: { type: String, required: true },
    name: { type: String, required: true, trim: true, maxlength: 200 },
    parent: { type: String, default: null },
    kind: { type: String, enum: UNIT_KINDS, required: true },
    level: { type: String, enum: LEVELS },
    updatedAt: { type: Date, default: Date.now },
  },
  { collection: 'reports_units', versionKey: false },
);
// Children of a unit (MongoDB); on the embedded engine the whole tree is cached in memory instead.
unitSchema.index({ parent: 1 });
// The newest change: how each process learns that its cached tree is out of date.
unitSchema.index({ updatedAt: 1 });

export type UnitModel = Model<OrgUnit>;
export const unitModel = (db: Connection): UnitModel =>
  (db.models.ReportsUnit as UnitModel) ?? db.model<OrgUnit>('ReportsUnit', unitSchema);
