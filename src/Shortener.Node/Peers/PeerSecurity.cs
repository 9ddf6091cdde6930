using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Shortener.Node.Hosting;
using Shortener.Storage;

namespace Shortener.Node.Peers;

/// <summary>
/// How this node's peer traffic is protected. With the cluster's TLS files (<c>--tls-cert</c>,
/// <c>--tls-key</c>, <c>--tls-ca</c>) peers speak mutual TLS over https:// peer URLs: each side
/// presents a certificate the cluster's authority signed, and a connection whose other end cannot is
/// refused before a byte of the peer protocol is read. Plain HTTP/2 over http:// peer URLs is for
/// loopback development only and needs <c>--plaintext-peers</c>. The cluster secret is checked on
/// every call either way.
/// </summary>
public sealed class PeerSecurity
{
    private PeerSecurity(X509Certificate2? certificate, X509Certificate2? authority, bool plaintextAllowed)
    {
        Certificate = certificate;
        Authority = authority;
        PlaintextAllowed = plaintextAllowed;
    }

    /// <summary>This node's certificate, with its key; null without TLS.</summary>
    public X509Certificate2? Certificate { get; }

    public X509Certificate2? Authority { get; }

    public bool PlaintextAllowed { get; }

    public bool Tls => Certificate is not null;

    /// <summary>Loads the TLS files the options name (all three or none); throws with the reason when they are unusable.</summary>
    public static PeerSecurity Load(ClusterOptions options)
    {
        string?[] files = [options.TlsCert, options.TlsKey, options.TlsCa];
        if (files.All(string.IsNullOrEmpty))
        {
            return new PeerSecurity(null, null, options.PlaintextPeers);
        }

        if (files.Any(string.IsNullOrEmpty))
        {
            throw new StorageException("peer TLS needs all three of --tls-cert, --tls-key and --tls-ca (Shortener:Cluster:TlsCert, TlsKey, TlsCa)");
        }

        try
        {
            var certificate = X509Certificate2.CreateFromPemFile(options.TlsCert!, options.TlsKey!);
            var authority = X509CertificateLoader.LoadCertificateFromFile(options.TlsCa!);
            var security = new PeerSecurity(certificate, authority, options.PlaintextPeers);
            if (!security.Trusts(certificate))
            {
                throw new StorageException($"{options.TlsCert} is not signed by the authority in {options.TlsCa} (or has expired): peers would refuse it");
            }

            return security;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException or ArgumentException)
        {
            throw new StorageException($"cannot load the peer TLS files ({options.TlsCert}, {options.TlsKey}, {options.TlsCa}): {e.Message}", e);
        }
    }

    /// <summary>Why this node cannot talk to a peer at <paramref name="peerUrl"/>, or null when it can.</summary>
    public string? Refusal(string peerUrl)
    {
        if (!Uri.TryCreate(peerUrl, UriKind.Absolute, out var url))
        {
            return $"'{peerUrl}' is not a URL";
        }

        if (url.Scheme == Uri.UriSchemeHttps)
        {
            return Tls ? null : $"the peer URL {peerUrl} is https, but this node has no peer TLS files: give it --tls-cert, --tls-key and --tls-ca (`shortener up` makes them)";
        }

        if (!PlaintextAllowed)
        {
            return $"the peer URL {peerUrl} is plain http: peer traffic must be encrypted (https:// peer URLs with --tls-cert, --tls-key and --tls-ca), or pass --plaintext-peers for loopback development";
        }

        // A loopback address, not a name: the peer port binds the address it is given, and a name
        // (even localhost) would have it listen on every interface.
        return IPAddress.TryParse(url.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip)
            ? null
            : $"the peer URL {peerUrl} is plain http on {url.Host}: --plaintext-peers is for loopback development only, on a loopback address such as 127.0.0.1; use https:// peer URLs with TLS files";
    }

    /// <summary>Whether <paramref name="presented"/> chains to the cluster's authority and is in its validity period.</summary>
    public bool Trusts(X509Certificate? presented) => presented is not null && Authority is not null && SignedBy(presented, Authority);

    /// <summary>Whether <paramref name="presented"/> chains to <paramref name="authority"/> alone (no system roots) and is in its validity period.</summary>
    public static bool SignedBy(X509Certificate presented, X509Certificate2 authority)
    {
        using var certificate = X509CertificateLoader.LoadCertificate(presented.GetRawCertData());
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }

    /// <summary>The peer port's TLS: this node's certificate, a certificate of the cluster's required from every caller.</summary>
    public void ConfigureServer(ListenOptions listen)
    {
        if (!Tls)
        {
            return;
        }

        listen.UseHttps(new HttpsConnectionAdapterOptions
        {
            ServerCertificate = Certificate,
            ClientCertificateMode = ClientCertificateMode.RequireCertificate,
            ClientCertificateValidation = (presented, _, _) => Trusts(presented),
            SslProtocols = SslProtocols.Tls13,
        });
    }

    /// <summary>A dialling handler's TLS: present this node's certificate; accept a peer whose certificate the authority signed for the host dialled.</summary>
    public void ConfigureClient(SocketsHttpHandler handler)
    {
        if (!Tls)
        {
            return;
        }

        handler.SslOptions = new SslClientAuthenticationOptions
        {
            ClientCertificates = [Certificate!],
            EnabledSslProtocols = SslProtocols.Tls13,
            RemoteCertificateValidationCallback = (_, presented, _, errors) =>
                (errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) == 0 && Trusts(presented),
        };
    }
}
