using System.Security.Cryptography;
using System.Text;

namespace RelpSae.Hub;

/// <summary>
/// Checks a download against the ETag the Hub reported (<see cref="HubHashes.IsEtag"/> has made sure it is a
/// hash): a 64-hex ETag is the file's sha256 (LFS files), a 40-hex one its git blob sha1 (sha1 of
/// "blob {size}\0" + content).
/// </summary>
internal sealed class ContentHash : IDisposable
{
    private readonly IncrementalHash hash;
    private readonly string expected;

    public ContentHash(string etag, long size)
    {
        expected = etag;
        hash = IncrementalHash.CreateHash(etag.Length == 64 ? HashAlgorithmName.SHA256 : HashAlgorithmName.SHA1);
        if (etag.Length == 40) hash.AppendData(Encoding.ASCII.GetBytes($"blob {size}\0"));
    }

    public void Append(ReadOnlySpan<byte> bytes) => hash.AppendData(bytes);

    /// <summary>True when the bytes seen hash to the ETag.</summary>
    public bool Matches(out string actual)
    {
        actual = Convert.ToHexStringLower(hash.GetHashAndReset());
        return actual == expected;
    }

    public void Dispose() => hash.Dispose();
}
