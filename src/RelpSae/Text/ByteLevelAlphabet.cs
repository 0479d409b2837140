namespace RelpSae.Text;

/// <summary>
/// GPT-2's byte ↔ character table: byte-level BPE spells each UTF-8 byte as one printable character
/// (printable Latin-1 bytes stand for themselves; the others, space included, are shifted to 256 + n,
/// so a space is 'Ġ'). Needed to show a token that is only part of a multi-byte character.
/// </summary>
internal static class ByteLevelAlphabet
{
    static readonly int[] CharToByte = Build();
    static readonly string[] ByteToToken = Invert();

    static string[] Invert()
    {
        var tokens = new string[256];
        for (int c = 0; c < CharToByte.Length; c++)
            if (CharToByte[c] >= 0) tokens[CharToByte[c]] = ((char)c).ToString();
        return tokens;
    }

    /// <summary>The one-character token that spells <paramref name="b"/>.</summary>
    public static string Token(byte b) => ByteToToken[b];

    static int[] Build()
    {
        var map = new int[512];
        Array.Fill(map, -1);
        var shifted = 0;
        for (var b = 0; b < 256; b++)
        {
            var printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            map[printable ? b : 256 + shifted++] = b;
        }
        return map;
    }

    /// <summary>Appends the bytes a token's characters spell; false when a character is outside the alphabet.</summary>
    public static bool TryAppendBytes(string token, List<byte> bytes)
    {
        foreach (var c in token)
        {
            if (c >= CharToByte.Length || CharToByte[c] < 0) return false;
            bytes.Add((byte)CharToByte[c]);
        }
        return true;
    }
}
