using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Shortener.Node.Peers;

/// <summary>
/// Makes the cluster's certificate authority and the certificates its nodes present to each other
/// (mutual TLS on the peer port, as etcd's peer TLS): ECDSA P-256, PEM. A node certificate names
/// its peer host (IP or DNS) and serves both ends of a connection (server and client auth), so one
/// file pair per node does for listening and for dialling.
/// </summary>
public static class PeerCertificates
{
    public static readonly TimeSpan AuthorityLifetime = TimeSpan.FromDays(3650);
    public static readonly TimeSpan NodeLifetime = TimeSpan.FromDays(825);

    private const string ServerAuth = "1.3.6.1.5.5.7.3.1";
    private const string ClientAuth = "1.3.6.1.5.5.7.3.2";

    /// <summary>A self-signed authority that may sign node certificates only (path length 0).</summary>
    public static (string CertificatePem, string KeyPem) CreateAuthority(string name, DateTimeOffset now)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName("CN=" + name), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        using var certificate = request.CreateSelfSigned(now.AddDays(-1), now + AuthorityLifetime);
        return (certificate.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem());
    }

    /// <summary>A node certificate for <paramref name="hosts"/>, signed by the authority.</summary>
    public static (string CertificatePem, string KeyPem) Issue(string authorityCertificatePem, string authorityKeyPem, string subject, IEnumerable<string> hosts, DateTimeOffset now)
    {
        using var authority = X509Certificate2.CreateFromPem(authorityCertificatePem, authorityKeyPem);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName("CN=" + subject), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(ServerAuth), new Oid(ClientAuth)], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(authority, true, false));
        var names = new SubjectAlternativeNameBuilder();
        foreach (var host in hosts.Distinct(StringComparer.OrdinalIgnoreCase))
        {
            if (IPAddress.TryParse(host.Trim('[', ']'), out var ip))
            {
                names.AddIpAddress(ip);
            }
            else
            {
                names.AddDnsName(host);
            }
        }

        request.CertificateExtensions.Add(names.Build());
        var notAfter = now + NodeLifetime < authority.NotAfter ? now + NodeLifetime : new DateTimeOffset(authority.NotAfter);
        using var certificate = request.Create(authority, now.AddDays(-1), notAfter, RandomNumberGenerator.GetBytes(16));
        return (certificate.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem());
    }

    /// <summary>
    /// Writes a PEM file; a key only its owner may read (0600), as the cluster secret. Written
    /// aside and moved into place, so a crash leaves the old file or the new one, and the new one
    /// has the new file's mode (an existing file would keep its own).
    /// </summary>
    public static void Write(string path, string pem, bool secret)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var staged = path + ".tmp";
        File.Delete(staged);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (secret && !OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(staged, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(pem);
            writer.Flush();
            stream.Flush(flushToDisk: true);
        }

        File.Move(staged, path, overwrite: true);
    }
}
