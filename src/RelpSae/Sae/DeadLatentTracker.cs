namespace RelpSae.Sae;

/// <summary>Per latent, tokens seen since it last fired; dead once that reaches the window.</summary>
internal sealed class DeadLatentTracker(int dSae, long windowTokens)
{
    public long[] TokensSinceFired { get; } = new long[dSae];
    public bool[] Dead { get; } = new bool[dSae];

    public void Update(ReadOnlySpan<int> firedCounts, int tokens)
    {
        for (int i = 0; i < TokensSinceFired.Length; i++)
        {
            TokensSinceFired[i] = firedCounts[i] > 0 ? 0 : TokensSinceFired[i] + tokens;
            Dead[i] = TokensSinceFired[i] >= windowTokens;
        }
    }

    public void Revive(int latent)
    {
        TokensSinceFired[latent] = 0;
        Dead[latent] = false;
    }

    public void Restore(long[] tokensSinceFired)
    {
        if (tokensSinceFired.Length != TokensSinceFired.Length)
            throw new RelpSaeException($"checkpoint: dead-latent counters for {tokensSinceFired.Length} latents, expected {TokensSinceFired.Length}");
        tokensSinceFired.CopyTo(TokensSinceFired, 0);
        for (int i = 0; i < Dead.Length; i++) Dead[i] = TokensSinceFired[i] >= windowTokens;
    }

    public double DeadFraction => (double)Dead.Count(d => d) / Dead.Length;
}
