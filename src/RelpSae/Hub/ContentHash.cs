using System.Security.Cryptography;
using System.Text;

namespace RelpSae.Hub;

/// <summary>
/// Checks a download against the ETag the Hub reported: a 64-hex ETag is the file's sha256 (LFS files), a
/// 40-hex one its git blob sha1 (sha1 of "blob {size}\0" + content). Other forms cannot be checked.
/// </summary>
internal sealed class ContentHash : IDisposable
{
    private readonly IncrementalHash? hash;
    private readonly string expected;

    public ContentHash(string etag, long size)
    {
        expected = etag.ToLowerInvariant();
        if (expected.Length == 64 && expected.All(char.IsAsciiHexDigit)) hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        else if (expected.Length == 40 && expected.All(char.IsAsciiHexDigit) && size >= 0)
        {
            hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
            hash.AppendData(Encoding.ASCII.GetBytes($"blob {size}\0"));
        }
    }

    public bool CanVerify => hash is not null;

    public void Append(ReadOnlySpan<byte> bytes) => hash?.AppendData(bytes);

    /// <summary>True when the bytes seen hash to the ETag (or the ETag's form has no known hash).</summary>
    public bool Matches(out string actual)
    {
        actual = hash is null ? expected : Convert.ToHexStringLower(hash.GetHashAndReset());
        return actual == expected;
    }

    public void Dispose() => hash?.Dispose();
}
