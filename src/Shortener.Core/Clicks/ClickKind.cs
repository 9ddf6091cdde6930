namespace Shortener.Core.Clicks;

/// <summary>Who followed a link, as far as the request tells: counted apart so bots do not inflate the human figure.</summary>
public enum ClickKind
{
    Human,
    /// <summary>A known crawler's user agent, or a HEAD request (link checkers, unfurlers).</summary>
    Bot,
}
