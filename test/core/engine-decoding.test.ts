/**
 * The embedded engine gives back every stored value exactly as it was written
 * (engine/patches/070-sjson-decode-in-one-pass.patch decodes stored documents with a one-pass
 * decoder of its own, leaving to FerretDB's encoding/json decoder only what it does not handle).
 *
 * Documents with every kind of value the engine stores — strings with escapes, quotes and
 * non-ASCII text (a statement's JSON text is one), each numeric type at its edges, dates before
 * 1970, ObjectIds, binaries, regular expressions, timestamps, nulls, empty and nested documents and
 * arrays — are written through the raw driver and read back, by _id and through an index, and
 * compared in canonical Extended JSON, which tells int32 from int64 from double. A decoder that
 * lost a type, an escape or a key's order would fail here; that it is fast is the bench's business
 * (`npm run bench:lrs`, engine CPU per request).
 *
 * Field names with `"`, `\` or control characters (engine/patches/075-sqlite-escaped-field-names.patch)
 * are written, read, indexed and filtered through the index like any other. On the engine before
 * that patch, FerretDB wrote such top-level keys into the stored JSON unescaped: inserting
 * {'a"b': 1} failed with SQLite's "malformed JSON", and {'a\\b': 1} or {'a\nb': 1} were stored
 * but every read of them failed ("missing key", "invalid character"); createIndexes on 'a"b' made
 * invalid SQL, and on the others indexed a different key.
 */
import { expect } from 'chai';
import mongoose from 'mongoose';
import { randomBytes } from 'node:crypto';
import { testDbUri } from '../helpers';

const { MongoClient, ObjectId, Long, Double, Int32, Binary, BSONRegExp, Timestamp } = mongoose.mongo;
const { EJSON } = mongoose.mongo.BSON;

describe('core: the embedded engine reads back every stored value as written', function () {
  this.timeout(60_000);
  let client: InstanceType<typeof MongoClient>;
  const dbName = `t_decoding_${randomBytes(4).toString('hex')}`;

  before(async () => {
    client = await new MongoClient(testDbUri(), { directConnection: true }).connect();
  });
  after(async () => {
    await client.db(dbName).dropDatabase();
    await client.close();
  });

  const statementText = JSON.stringify({
    id: 'e7f0',
    actor: { name: 'Joao "Jo" Silva\\Souza', mbox: 'mailto:jo@example.gob' },
    result: { response: 'línea 1\nlínea 2\t€ 😀', score: { raw: 1.5e300, scaled: -0.25 } },
  });
  const docs = [
    {
      _id: 'all-kinds',
      k: 'a',
      text: statementText,
      escapes: '"\\/\b\f\n\r\t\u0001\u001f',
      unicode: 'ação ñ 中文 😀 \u2028',
      empty: '',
      int: new Int32(-2147483648),
      intMax: new Int32(2147483647),
      long: Long.fromString('9223372036854775807'),
      longMin: Long.fromString('-9223372036854775808'),
      double: new Double(1.5),
      wholeDouble: new Double(2),
      tiny: new Double(5e-324),
      yes: true,
      no: false,
      nothing: null,
      date: new Date('2026-12-02T05:00:00.123Z'),
      before1970: new Date(-86_400_000 * 365),
      epoch: new Date(0),
      oid: new ObjectId('65a1b2c3d4e5f60718293a4b'),
      bin: new Binary(Buffer.from([0, 1, 2, 255])),
      uuid: new Binary(Buffer.from('0123456789abcdef'), 4),
      re: new BSONRegExp('^a.*"b"$', 'im'),
      ts: new Timestamp({ t: 1_700_000_000, i: 7 }),
      emptyDoc: {},
      emptyArr: [],
      nested: { z: 1, a: { deep: ['x', { y: null, 'clé é': 'v' }], n: new Double(0.1) }, m: [] },
      mixed: ['s', new Int32(1), Long.fromNumber(2), new Double(3.25), true, null, new Date(1), new ObjectId(), { a: 'b' }],
      'key with spaces': 'v',
      ключ: 'значение',
    },
    { _id: new ObjectId('65a1b2c3d4e5f60718293a4c'), k: 'a', only: 'an ObjectId _id' },
    { _id: new Int32(7), k: 'b', n: [new Int32(1), new Int32(2)] },
  ];

  it('gives back strings, numbers, dates, ids, binaries, regexes, timestamps, documents and arrays exactly', async () => {
    const coll = client.db(dbName).collection('kinds');
    await coll.insertMany(docs as never[]);
    await coll.createIndex({ k: 1 });
    const canonical = (d: unknown) => EJSON.stringify(d, { relaxed: false });

    for (const d of docs) {
      const got = await coll.findOne({ _id: d._id } as never, { promoteValues: false, promoteLongs: false });
      expect(canonical(got)).to.equal(canonical(d));
    }
    // Through an index, several at once, as the LRS reads its pages.
    const byIndex = await coll.find({ k: 'a' }, { promoteValues: false }).sort({ _id: 1 }).toArray();
    expect(byIndex.map(canonical).sort()).to.deep.equal(
      docs
        .filter((d) => d.k === 'a')
        .map(canonical)
        .sort(),
    );
    const text = (await coll.findOne({ _id: 'all-kinds' } as never))!.text as string;
    expect(JSON.parse(text)).to.deep.equal(JSON.parse(statementText));
  });

  it('still matches filters on the values it decoded (strings with escapes, dates, numbers)', async () => {
    const coll = client.db(dbName).collection('kinds');
    expect(await coll.countDocuments({ text: statementText })).to.equal(1);
    expect(await coll.countDocuments({ escapes: '"\\/\b\f\n\r\t\u0001\u001f' })).to.equal(1);
    expect(await coll.countDocuments({ before1970: { $lt: new Date(0) } })).to.equal(1);
    expect(await coll.countDocuments({ 'nested.a.n': 0.1 })).to.equal(1);
    expect(await coll.countDocuments({ long: Long.fromString('9223372036854775807') })).to.equal(1);
    expect(await coll.countDocuments({ n: 2 })).to.equal(1);
  });

  describe('field names with quotes, backslashes and control characters', () => {
    const names = ['a"b', 'a\\b', 'a\nb\tc', 'x\u0001\u001f', '"', '\\', "it's", 'a\\"b\'c'];
    const coll = () => client.db(dbName).collection('names');
    const plan = async (filter: object) => {
      const res = await client.db(dbName).command({ explain: { find: 'names', filter } });
      return ((res.queryPlanner as { Plan?: string[] }).Plan ?? []).join('\n');
    };

    before(async () => {
      const docs = names.flatMap((k, i) => [
        { _id: `${i}-x`, [k]: 'x', nested: { [k]: 'x' } },
        { _id: `${i}-y`, [k]: 'y', [`${k} other`]: 'x' },
        { _id: `${i}-arr`, [k]: ['z', 'x'] },
      ]);
      await coll().insertMany(docs as never[]);
    });

    it('are stored and read back with their values', async () => {
      for (const [i, k] of names.entries()) {
        const got = await coll().findOne({ _id: `${i}-x` } as never);
        expect(got, JSON.stringify(k)).to.deep.equal({ _id: `${i}-x`, [k]: 'x', nested: { [k]: 'x' } });
      }
    });

    it('are indexed, and filters on them find the same documents through the index as without', async () => {
      const expected = async (k: string, f: object) =>
        (
          await coll()
            .find({ $nor: [{ $nor: [f] }] })
            .toArray()
        )
          .map((d) => d._id)
          .sort();
      for (const [i, k] of names.entries()) {
        const filters = [
          { [k]: 'x' },
          { [k]: { $in: ['x', 'y'] } },
          { [`nested.${k}`]: 'x' },
          { $or: [{ [k]: 'y' }, { [`nested.${k}`]: 'x' }] },
        ];
        const before = await Promise.all(filters.map((f) => expected(k, f)));
        expect(before[0], JSON.stringify(k)).to.deep.equal([`${i}-arr`, `${i}-x`]);
        await coll().createIndex({ [k]: 1 });
        await coll().createIndex({ [`nested.${k}`]: 1 });
        for (const [j, f] of filters.entries()) {
          const got = (await coll().find(f).toArray()).map((d) => d._id).sort();
          expect(got, JSON.stringify(f)).to.deep.equal(before[j]);
        }
        const indexName = new RegExp(`USING INDEX \\S+_${k.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')}_1 `);
        expect(await plan({ [k]: 'x' }), JSON.stringify(k)).to.match(indexName);
        // sorted and limited by the index, newest-page style
        const page = async (f: object) =>
          (
            await coll()
              .find(f)
              .sort({ [k]: -1, _id: 1 })
              .limit(2)
              .toArray()
          ).map((d) => d._id);
        const inXY = { [k]: { $in: ['x', 'y'] } };
        expect(await page(inXY)).to.deep.equal(await page({ $nor: [{ $nor: [inXY] }] }));
        // written after the index exists, and found through it
        await coll().insertOne({ _id: `${i}-late`, [k]: 'x' } as never);
        expect(
          (
            await coll()
              .find({ [k]: 'x' })
              .toArray()
          )
            .map((d) => d._id)
            .sort(),
        ).to.deep.equal([`${i}-arr`, `${i}-late`, `${i}-x`]);
      }
      const indexes = (await coll().indexes()).map((ix) => ix.name);
      expect(indexes).to.include.members(names.map((k) => `${k}_1`));
      for (const k of names) await coll().dropIndex(`${k}_1`);
      expect((await coll().indexes()).map((ix) => ix.name)).not.to.include.members(names.map((k) => `${k}_1`));
    });
  });
});
