using CsCheck;
using Shortener.Core.Links;

namespace Shortener.Core.Tests.Links;

/// <summary>
/// Random sequences of link commands over a small pool of codes and idempotency keys, so that
/// creates collide, updates hit deleted links, visits run out and keys get reused.
/// Shared (as a linked source file) by the Core and Storage tests.
/// </summary>
public static class LinkCommandGen
{
    private static readonly string[] Codes = ["aaa", "bbb", "ccc", "ddd", "Aaa"];
    private static readonly string[] Urls = ["https://a.example/", "https://b.example/x?y=1", "http://c.example:8080/"];
    private static readonly string[] TagPool = ["red", "green", "blue"];

    public static readonly Gen<LinkCommandEnvelope[]> Sequences =
        Gen.Select(Steps.Array[1, 60], steps =>
        {
            var at = 1_000L;
            return steps.Select(s =>
            {
                at += s.Gap;
                return s.Build(at);
            }).ToArray();
        });

    private static Gen<Step> Steps =>
        from kind in Gen.Int[0, 7]
        from code in Gen.OneOfConst(Codes)
        from url in Gen.OneOfConst(Urls)
        from gap in Gen.Long[0, 3_600_000]
        from expiresIn in Gen.Long[-1, 7_200_000]
        from maxVisits in Gen.Long[0, 3]
        from status in Gen.OneOfConst(301, 302, 307, 308)
        from tagMask in Gen.Int[0, 7]
        from clear in Gen.Int[0, 15]
        from key in Gen.Int[-1, 3]
        select new Step(kind, code, url, gap, expiresIn, maxVisits, status, tagMask, clear, key);

    private sealed record Step(int Kind, string Code, string Url, long Gap, long ExpiresIn, long MaxVisits, int Status, int TagMask, int Clear, int Key)
    {
        public LinkCommandEnvelope Build(long at)
        {
            var tags = TagPool.Where((_, i) => (TagMask & (1 << i)) != 0).ToArray();
            long? expires = ExpiresIn < 0 ? null : at + ExpiresIn + 1;
            long? max = MaxVisits == 0 ? null : MaxVisits;
            LinkCommand command = Kind switch
            {
                0 => new CreateLink(at, Code, Url, expires, max, Status, tags, Code == "aaa" ? "title" : null,
                    ValidSince: TagMask == 6 ? at + Gap : null, Crawlable: TagMask % 3 == 0, ForwardQuery: Status == 307, Owner: Key == 1 ? "team" : null),
                1 => new UpdateLink(at, Code, new LinkPatch(
                    Url: TagMask % 2 == 0 ? Url : null,
                    ExpiresAt: expires,
                    MaxVisits: max,
                    RedirectStatus: TagMask > 3 ? Status : null,
                    Tags: tags,
                    Title: TagMask == 5 ? "patched" : null,
                    Clear: (LinkFields)Clear,
                    ValidSince: TagMask == 7 ? at + Gap : null,
                    Crawlable: TagMask == 1 ? true : null,
                    ForwardQuery: TagMask == 2 ? Status == 301 : null),
                    AsOwner: Key == 2 ? "team" : null),
                2 => new DeleteLink(at, Code, AsOwner: Key == 3 ? "team" : null),
                3 or 4 => new RecordVisit(at, Code),
                5 => new LeaseCodeBlock(at, (ulong)(MaxVisits * 100)),
                7 => TagMask switch
                {
                    // Intents of a few transactions on the same codes: held, refused, resolved either way, resolved twice.
                    0 => new PrepareIntents(at, $"t{Key + 1}", 0, at + Gap, [new CreateLink(at, Code, Url, null, null, Status, [], null)]),
                    1 => new PrepareIntents(at, $"t{Key + 1}", 0, at + Gap, [new UpdateLink(at, Code, new LinkPatch(Url: Url))]),
                    2 => new PrepareIntents(at, $"t{Key + 1}", 0, at + Gap, [new DeleteLink(at, Code)]),
                    _ => new ResolveIntent(at, Code, $"t{Key + 1}", TagMask % 2 == 0 ? Core.Transactions.TransactionState.Committed : Core.Transactions.TransactionState.Aborted),
                },
                _ => TagMask switch
                {
                    // Transaction records under a few ids: begun, taken again, decided either way, or raced.
                    < 3 => new BeginTransaction(at, "t-" + Code, [1, 2 + TagMask], at + Gap),
                    < 5 => new DecideTransaction(at, "t-" + Code, Core.Transactions.TransactionState.Committed),
                    _ => new DecideTransaction(at, "t-" + Code, Core.Transactions.TransactionState.Aborted),
                },
            };
            var token = Key < 0 ? null : new IdempotencyToken("client", $"key-{Key}", $"{Kind}:{Code}:{Url}");
            return new LinkCommandEnvelope(command, token);
        }
    }
}
