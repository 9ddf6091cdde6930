using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Shortener.Core.Links;

namespace Shortener.Core.Tests.Links;

/// <summary>
/// Commands are written by generated serializer code now; entries already in logs were written by
/// reflection. The two must write the same bytes, and read each other's.
/// </summary>
public class LinkCommandCodecTests
{
    private static readonly JsonSerializerOptions Reflection = new(LinkJson.Options) { TypeInfoResolver = new DefaultJsonTypeInfoResolver() };

    public static TheoryData<LinkCommandEnvelope> Envelopes() =>
    [
        new(new CreateLink(1_700_000_000_000, "abc12", "https://example.com/a?b=c", null, null, 301, [], null, Generated: true)),
        new(new CreateLink(1, "alias", "https://example.com", 5_000, 10, 302, ["x", "y"], "Title \u00e9"), new IdempotencyToken("key-1", "k", "hash")),
        new(new UpdateLink(2, "alias", new LinkPatch(Url: "https://example.org", Tags: ["t"], Clear: LinkFields.Title | LinkFields.ExpiresAt))),
        new(new DeleteLink(3, "alias")),
        new(new RecordVisit(4, "alias")),
        new(new LeaseCodeBlock(5, 1000)),
        new(new PurgeIdempotency(6)),
        new(new SetClusterMembers(7, 3, """{"members":[]}""")),
        new(new BeginTransaction(8, "t1", [0, 5], 9_000)),
        new(new DecideTransaction(9, "t1", Shortener.Core.Transactions.TransactionState.Committed)),
        new(new PrepareIntents(10, "t1", 0, 9_000, [new CreateLink(10, "new", "https://example.com", null, null, 301, [], null), new DeleteLink(10, "old")])),
        new(new ResolveIntent(11, "new", "t1", Shortener.Core.Transactions.TransactionState.Aborted)),
    ];

    [Theory]
    [MemberData(nameof(Envelopes))]
    public void Generated_code_writes_the_bytes_reflection_wrote_and_reads_them_back(LinkCommandEnvelope envelope)
    {
        var encoded = LinkCommandCodec.Encode(envelope);
        Assert.Equal(JsonSerializer.SerializeToUtf8Bytes(envelope, Reflection), encoded);
        Assert.Equal(Canonical(envelope), Canonical(LinkCommandCodec.Decode(encoded)));
        Assert.Equal(Canonical(envelope), Canonical(JsonSerializer.Deserialize<LinkCommandEnvelope>(encoded, Reflection)!));
    }

    [Fact]
    public void A_result_with_an_outcome_and_a_link_keeps_its_stored_form()
    {
        var result = new CommandResult(CommandOutcome.Created, new Link("abc12", "https://example.com", 1, 2, null, null, 0, 301, ["t"], null, false));
        Assert.Equal(JsonSerializer.Serialize(result, Reflection), LinkJson.Serialize(result));
        Assert.Contains("\"outcome\":\"created\"", LinkJson.Serialize(result), StringComparison.Ordinal);
        Assert.Equal(result.Link!.Tags, LinkJson.Deserialize<CommandResult>(LinkJson.Serialize(result)).Link!.Tags);
    }

    [Fact]
    public void Bytes_no_version_wrote_are_refused_as_invalid_data()
    {
        Assert.Throws<InvalidDataException>(() => LinkCommandCodec.Decode("""{"command":{"op":"teleport","at":1}}"""u8));
        Assert.Throws<InvalidDataException>(() => LinkCommandCodec.Decode("not json"u8));
    }

    // Records holding lists compare by reference; their JSON compares by value.
    private static string Canonical(LinkCommandEnvelope envelope) => JsonSerializer.Serialize(envelope, Reflection);
}
