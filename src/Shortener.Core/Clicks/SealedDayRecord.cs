using System.Buffers;
using Shortener.Core.Clocks;
using Shortener.Core.Cluster;
using Shortener.Core.Common;

namespace Shortener.Core.Clicks;

/// <summary>
/// A link's sealed day as replicas keep and exchange it: once a UTC day is older than the seal
/// horizon (<see cref="ClickSettings.SealAfterMs"/>), each replica folds its clicks of the day
/// into a <see cref="SealedDay"/> (G-counters per origin node) and drops the clicks themselves.
/// Each replica seals on its own, so the versions are concurrent writes of one record: they are
/// kept as siblings in a <see cref="DottedVersionVectorSet{T}"/> (each with the dot of the replica
/// that sealed it), merged with other replicas' sets by anti-entropy and read repair, and read as
/// the deterministic merge of the siblings (<see cref="Value"/>). A replica seals a day once, with
/// a blind write (the siblings it holds from others stay), so a record has at most one sibling per
/// replica that held clicks of the day.
/// </summary>
public sealed class SealedDayRecord
{
    private const byte FormatVersion = 1;

    private byte[]? _encoded;
    private SealedDay? _value;

    public SealedDayRecord(string code, int day, DottedVersionVectorSet<SealedDay> versions)
    {
        ArgumentException.ThrowIfNullOrEmpty(code);
        Code = code;
        Day = day;
        Versions = versions;
    }

    public string Code { get; }

    public int Day { get; }

    public DottedVersionVectorSet<SealedDay> Versions { get; }

    /// <summary>What the day counts: its siblings merged (per origin, the highest count any replica sealed).</summary>
    public SealedDay Value => _value ??= SealedDay.Merge(Versions.Values);

    /// <summary>
    /// This record with <paramref name="replica"/>'s own version added: the counters of the clicks
    /// it held of the day, as a blind write (concurrent with every version already here).
    /// </summary>
    public static SealedDayRecord Seal(string code, int day, SealedDayRecord? existing, ulong replica, IEnumerable<ClickEvent> clicks) =>
        Seal(code, day, existing, replica, SealedDay.Count(clicks));

    /// <summary>The same with the counters already counted (<see cref="SealedDayTally"/>).</summary>
    public static SealedDayRecord Seal(string code, int day, SealedDayRecord? existing, ulong replica, SealedDay counted) =>
        new(code, day, (existing?.Versions ?? DottedVersionVectorSet<SealedDay>.Empty).Put(VersionVector.Empty, replica, counted));

    /// <summary>
    /// The union of two replicas' versions of the same link's day. One dot with two values (a
    /// replica that lost its database and sealed the day again under a dot its earlier life had
    /// used) keeps the join of both, so every replica ends with the same record whichever it saw first.
    /// </summary>
    public SealedDayRecord Merge(SealedDayRecord other)
    {
        if (other.Code != Code || other.Day != Day)
        {
            throw new ArgumentException($"cannot merge the sealed day {other.Code}/{other.Day} into {Code}/{Day}");
        }

        var merged = Versions.Merge(other.Versions);
        var theirs = other.Versions.Siblings.ToDictionary(s => s.Dot, s => s.Value);
        if (merged.Siblings.Any(s => theirs.TryGetValue(s.Dot, out var value) && !value.Equals(s.Value)))
        {
            merged = DottedVersionVectorSet<SealedDay>.FromParts(
                merged.Context,
                merged.Siblings.Select(s => theirs.TryGetValue(s.Dot, out var value) ? (s.Dot, s.Value.Merge(value)) : s));
        }

        return new SealedDayRecord(Code, Day, merged);
    }

    /// <summary>The binary form: the record file's and the wire's. Equal records encode alike.</summary>
    public byte[] Encode()
    {
        if (_encoded is null)
        {
            var w = new ArrayBufferWriter<byte>(64);
            w.Byte(FormatVersion);
            w.Str(Code);
            w.I32(Day);
            w.U32((uint)Versions.Context.Entries.Count);
            foreach (var (node, counter) in Versions.Context.Entries)
            {
                w.U64(node);
                w.U64(counter);
            }

            w.U32((uint)Versions.Siblings.Count);
            foreach (var (dot, value) in Versions.Siblings)
            {
                w.U64(dot.Node);
                w.U64(dot.Counter);
                value.Write(w);
            }

            _encoded = w.WrittenSpan.ToArray();
        }

        return _encoded;
    }

    /// <summary>The hash every replica computes alike for the same record (what anti-entropy and reads compare).</summary>
    public ulong Hash => ShardRouter.StableHash(Encode());

    /// <summary>The record <see cref="Encode"/> wrote; a <see cref="FormatException"/> for anything else.</summary>
    public static SealedDayRecord Decode(ReadOnlySpan<byte> data)
    {
        var r = new WireReader(data, "a sealed day");
        if (r.Byte() != FormatVersion)
        {
            throw new FormatException("not a sealed day this version can read");
        }

        var code = r.Str();
        var day = r.I32();
        var context = new (ulong, ulong)[r.Count(16)];
        for (var i = 0; i < context.Length; i++)
        {
            context[i] = (r.U64(), r.U64());
            if (context[i].Item2 == 0 || (i > 0 && context[i - 1].Item1 >= context[i].Item1))
            {
                throw new FormatException("a sealed day's context out of order");
            }
        }

        var siblings = new (Dot, SealedDay)[r.Count(28)];
        for (var i = 0; i < siblings.Length; i++)
        {
            siblings[i] = (new Dot(r.U64(), r.U64()), SealedDay.Read(ref r));
        }

        r.End();
        if (code.Length == 0)
        {
            throw new FormatException("a sealed day without a code");
        }

        try
        {
            return new SealedDayRecord(code, day, DottedVersionVectorSet<SealedDay>.FromParts(VersionVector.From(context), siblings));
        }
        catch (ArgumentException e)
        {
            throw new FormatException("a sealed day whose versions no replica could hold: " + e.Message, e);
        }
    }

    public override string ToString() => $"{Code}/{Day}: {Value.Total} clicks in {Versions.Siblings.Count} versions {Versions.Context}";
}
