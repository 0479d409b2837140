using RelpSae.Formats;
using Microsoft.ML.Tokenizers;

namespace RelpSae.Text;

/// <summary>
/// A SentencePiece <c>tokenizer.model</c> (Llama, Mistral: BPE with byte fallback), read by
/// Microsoft.ML.Tokenizers' LlamaTokenizer. BOS is not added: <see cref="Encode"/> gives the text's pieces only.
/// </summary>
public sealed class SentencePieceModel : ITextTokenizer
{
    public const string FileName = "tokenizer.model";

    private readonly LlamaTokenizer tokenizer;

    private SentencePieceModel(LlamaTokenizer tokenizer, string source)
    {
        this.tokenizer = tokenizer;
        Source = source;
    }

    public string Source { get; }
    public int VocabSize => tokenizer.Vocabulary.Count;
    public int BosTokenId => tokenizer.BeginningOfSentenceId;

    public static SentencePieceModel Load(string path)
    {
        using var stream = new MemoryStream(SideFile.ReadBytes(path));
        try
        {
            return new SentencePieceModel(LlamaTokenizer.Create(stream, addBeginOfSentence: false, addEndOfSentence: false), path);
        }
        catch (Exception e) when (e is not RelpSaeException)   // the protobuf reader's and the tokenizer's own errors
        {
            throw new RelpSaeException($"{path}: not a SentencePiece BPE model ({e.Message.Split('\n')[0]})");
        }
    }

    public int[] Encode(string text) => text.Length == 0 ? [] : [.. tokenizer.EncodeToIds(text, addBeginningOfSentence: false, addEndOfSentence: false)];

    public string Decode(ReadOnlySpan<int> ids)
    {
        foreach (var id in ids)
            if ((uint)id >= (uint)VocabSize) throw new RelpSaeException($"token id {id} is not in the vocabulary of {Source} (size {VocabSize})");
        return tokenizer.Decode(ids.ToArray(), considerSpecialTokens: false);
    }
}
