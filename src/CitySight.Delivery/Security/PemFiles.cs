using System.Security.Cryptography.X509Certificates;

namespace CitySight.Delivery.Security;

/// <summary>Certificates from the PEM files named in config (gRPC server, MQTT and push clients).</summary>
public static class PemFiles
{
    /// <summary>
    /// A certificate with its private key, through PKCS#12: SslStream on Linux wants a key it can persist, not the
    /// ephemeral one a PEM load gives.
    /// </summary>
    public static X509Certificate2 WithKey(string certFile, string keyFile)
    {
        using var pem = X509Certificate2.CreateFromPemFile(certFile, keyFile);
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>Every certificate a CA file holds (no key expected; CreateFromPemFile would demand one).</summary>
    public static X509Certificate2Collection Authorities(string caFile)
    {
        var cas = new X509Certificate2Collection();
        cas.ImportFromPemFile(caFile);
        return cas;
    }

    /// <summary>True when <paramref name="cert"/> chains to one of <paramref name="authorities"/> alone (no system roots, no revocation lookups).</summary>
    public static bool ChainsTo(X509Certificate2 cert, X509Certificate2Collection authorities, string? usageOid = null)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (usageOid is not null) chain.ChainPolicy.ApplicationPolicy.Add(new System.Security.Cryptography.Oid(usageOid));
        return chain.Build(cert);
    }
}
