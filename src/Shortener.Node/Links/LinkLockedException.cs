namespace Shortener.Node.Links;

/// <summary>A write refused because a cross-shard transaction holds the code (docs/transactions.md): retry once it is decided, within seconds.</summary>
public sealed class LinkLockedException(string code, string transaction)
    : Exception($"the link '{code}' is held by transaction {transaction} until it is decided; retry shortly")
{
    public string Code { get; } = code;

    public string Transaction { get; } = transaction;
}
