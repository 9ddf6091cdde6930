using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.FileProviders;

namespace Shortener.Node.Api;

/// <summary>
/// /app: the web app for links and visits (Shlink's web component, built by webapp/build.sh into
/// the node's output folder webapp/), talking to this node's /rest/v3 with the key the user logs in
/// with. Its scripts and styles have hashed names, so they are cached for good; the page itself is
/// not. Without the built files the page says how to build them.
/// </summary>
public static class WebAppEndpoints
{
    public const string Path = "/app";

    public static string Folder => System.IO.Path.Combine(AppContext.BaseDirectory, "webapp");

    public static void Use(WebApplication app)
    {
        app.MapGet(Path, () => Results.Redirect(Path + "/")).ExcludeFromDescription();
        if (!File.Exists(System.IO.Path.Combine(Folder, "index.html")))
        {
            app.MapGet(Path + "/{**rest}", () => Results.Content(
                    "<!doctype html><title>Shortener</title><p>The web app is not built into this node. Run <code>webapp/build.sh</code> (it needs npm) and rebuild; the API is at /rest/v3 and /api/v1.</p>",
                    "text/html"))
                .ExcludeFromDescription();
            return;
        }

        var files = new PhysicalFileProvider(Folder);
        app.UseDefaultFiles(new DefaultFilesOptions { RequestPath = Path, FileProvider = files });
        app.UseStaticFiles(new StaticFileOptions
        {
            RequestPath = Path,
            FileProvider = files,
            ContentTypeProvider = new FileExtensionContentTypeProvider(),
            OnPrepareResponse = context => context.Context.Response.Headers.CacheControl =
                context.Context.Request.Path.StartsWithSegments(Path + "/assets") ? "public, max-age=31536000, immutable" : "no-cache",
        });
    }
}
