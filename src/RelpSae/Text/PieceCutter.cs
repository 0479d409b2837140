using System.Text;

namespace RelpSae.Text;

/// <summary>
/// Cuts a long document into pieces of about <see cref="PieceChars"/> characters. A cut falls only where
/// a whitespace character follows a non-whitespace one, so GPT-2's pre-tokenizer splits each piece into
/// the same words as the whole text: every non-whitespace match ends before whitespace and the next
/// match starts at it. The pieces therefore tokenize as the same text given as several documents cut at
/// the same places; for GPT-2 that is also the tokenization of the uncut text. (A SentencePiece
/// tokenizer adds its dummy prefix to each piece as to each document.) Text with no such place in
/// <see cref="StrictText.MaxLineBytes"/>-many characters is refused.
/// </summary>
public sealed class PieceCutter(string path)
{
    /// <summary>Characters at which a piece is cut: 4 Mi, a few MiB of text and a few hundred thousand tokens.</summary>
    public const int PieceChars = 4 << 20;

    readonly StringBuilder _text = new();
    bool _cut;

    /// <summary>Appends text of the file's <paramref name="line"/> (named by errors); returns the pieces that are now complete (none while the text is short).</summary>
    public List<Piece<string>> Append(string text, int line)
    {
        _text.Append(text);
        var pieces = new List<Piece<string>>();
        while (_text.Length > PieceChars)
        {
            int at = LastCut();
            if (at > 0) pieces.Add(Take(at));
            else if (_text.Length <= StrictText.MaxLineBytes) break;
            else throw new RelpSaeException($"{path} line {line}: {StrictText.MaxLineBytes >> 20} MiB of text without a space or newline after a word; the document cannot be cut into pieces");
        }
        return pieces;
    }

    /// <summary>The document's last piece (the text held), then ready for the next document.</summary>
    public Piece<string> End()
    {
        var last = Take(_text.Length);
        _cut = false;
        return last;
    }

    Piece<string> Take(int length)
    {
        var piece = new Piece<string>(_text.ToString(0, length), _cut);
        _text.Remove(0, length);
        _cut = true;
        return piece;
    }

    int LastCut()
    {
        for (int i = Math.Min(_text.Length, PieceChars) - 1; i > 0; i--)
            if (char.IsWhiteSpace(_text[i]) && !char.IsWhiteSpace(_text[i - 1])) return i;
        return -1;
    }
}
