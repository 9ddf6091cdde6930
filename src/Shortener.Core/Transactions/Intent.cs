using Shortener.Core.Links;

namespace Shortener.Core.Transactions;

/// <summary>
/// A write a participant shard holds for transaction <paramref name="Txn"/> until the transaction
/// is decided (docs/transactions.md): <paramref name="Write"/> (a create, update or delete of one
/// code) was checked against the shard's state when it was prepared, and the code is locked
/// meanwhile: other writes to it are refused, reads and redirects see the committed link. The
/// record that decides it is in shard <paramref name="Coordinator"/>.
/// </summary>
public sealed record Intent(string Txn, int Coordinator, long DeadlineMs, LinkCommand Write)
{
    /// <summary>The shard document an intent on <paramref name="code"/> is kept under.</summary>
    public static string KeyOf(string code) => "intent:" + code;

    /// <summary>The shard document listing the codes a transaction holds intents on here.</summary>
    public static string IndexKeyOf(string txn) => "intents:" + txn;

    /// <summary>The code a write touches; null for a command that is not a link write.</summary>
    public static string? CodeOf(LinkCommand write) => write switch
    {
        CreateLink c => c.Code,
        UpdateLink u => u.Code,
        DeleteLink d => d.Code,
        _ => null,
    };

    public string Serialize() => LinkJson.Serialize(this);

    public static Intent Parse(string document) => LinkJson.Deserialize<Intent>(document);
}
