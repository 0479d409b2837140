using System.Text.Json;
using RelpSae.Formats;

namespace RelpSae.Text;

/// <summary>
/// The tokenizer of a model folder, whichever format it ships: tokenizer.json (byte-level BPE as GPT-2's,
/// or SentencePiece-style BPE with byte fallback), tokenizer.model (SentencePiece), or vocab.json + merges.txt.
/// </summary>
public static class TokenizerFiles
{
    /// <summary>The folder's tokenizer, or null when it has none (then prompts are given as token ids).</summary>
    public static ITextTokenizer? Load(string dir)
    {
        string json = Path.Combine(dir, "tokenizer.json"), model = Path.Combine(dir, SentencePieceModel.FileName);
        if (File.Exists(json))
        {
            bool byteFallback;
            try
            {
                using var doc = JsonDocument.Parse(SideFile.ReadBytes(json));
                byteFallback = ByteFallbackBpe.Describes(doc.RootElement);
            }
            catch (JsonException e)
            {
                throw new RelpSaeException($"{json}: not valid JSON ({e.Message.Split('\n')[0]})");
            }
            return byteFallback ? ByteFallbackBpe.Load(json) : Gpt2Tokenizer.Load(dir);
        }
        if (File.Exists(model)) return SentencePieceModel.Load(model);
        if (File.Exists(Path.Combine(dir, "vocab.json")) && File.Exists(Path.Combine(dir, "merges.txt"))) return Gpt2Tokenizer.Load(dir);
        return null;
    }
}
