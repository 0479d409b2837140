namespace RelpSae.Text;

/// <summary>
/// What a byte-level BPE vocabulary must satisfy before it is used, each failure a one-line error
/// instead of an exception deep in the tokenizer or text that silently loses bytes: ids unique and of
/// a plausible size, every one of the 256 byte tokens present, and every merge made of known tokens.
/// </summary>
internal static class BpeConsistency
{
    /// <summary>Ids index an array of tokens; 16M is far beyond any real vocabulary.</summary>
    public const int MaxId = 1 << 24;

    public static void Check(BpeFiles files, string source)
    {
        var byId = new Dictionary<int, string>();
        foreach (var (token, id) in files.Vocab)
        {
            if (id >= MaxId)
                throw new RelpSaeException($"{source}: token {Shown(token)} has id {id}, beyond any vocabulary (the limit is {MaxId})");
            if (!byId.TryAdd(id, token))
                throw new RelpSaeException($"{source}: tokens {Shown(byId[id])} and {Shown(token)} both have id {id}");
        }
        // Without a byte's token, text holding that byte would lose it without a word.
        for (int b = 0; b < 256; b++)
            if (!files.Vocab.ContainsKey(ByteLevelAlphabet.Token((byte)b)))
                throw new RelpSaeException($"{source}: the vocabulary lacks the token for byte 0x{b:X2} ({Shown(ByteLevelAlphabet.Token((byte)b))}); a byte-level vocabulary needs all 256");
        for (int i = 0; i < files.Merges.Count; i++)
        {
            var parts = files.Merges[i].Split(' ');
            foreach (var token in (string[])[parts[0], parts[1], parts[0] + parts[1]])
                if (!files.Vocab.ContainsKey(token))
                    throw new RelpSaeException($"{source}: merge {i} {Shown(files.Merges[i])} needs token {Shown(token)}, which is not in the vocabulary");
        }
    }

    private static string Shown(string token) => StrictText.Excerpt(token);
}
