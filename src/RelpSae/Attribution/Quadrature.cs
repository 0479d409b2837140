namespace RelpSae.Attribution;

public enum QuadratureRule { Midpoint, GaussLegendre }

/// <summary>Nodes α ∈ (0, 1) and weights (summing to 1) for integrating along the path of integrated gradients.</summary>
public static class Quadrature
{
    public static (double[] Nodes, double[] Weights) Create(QuadratureRule rule, int n)
    {
        if (n <= 0) throw new RelpSaeException($"integrated gradients needs at least one step, got {n}");
        if (n > IntegratedGradients.MaxSteps) throw new RelpSaeException($"integrated gradients takes at most {IntegratedGradients.MaxSteps} steps, got {n}");
        return rule == QuadratureRule.Midpoint ? Midpoint(n) : GaussLegendre(n);
    }

    private static (double[], double[]) Midpoint(int n) =>
        (Enumerable.Range(0, n).Select(k => (k + 0.5) / n).ToArray(), Enumerable.Repeat(1.0 / n, n).ToArray());

    /// <summary>Gauss–Legendre on [0, 1]: roots of P_n by Newton's method from Chebyshev guesses.</summary>
    private static (double[], double[]) GaussLegendre(int n)
    {
        var nodes = new double[n];
        var weights = new double[n];
        for (int i = 0; i < n; i++)
        {
            double x = Math.Cos(Math.PI * (i + 0.75) / (n + 0.5)), dp = 0;
            for (int iteration = 0; iteration < 100; iteration++)
            {
                // P_n(x) and P_n'(x) by the three-term recurrence.
                double pPrev = 1, p = x;
                for (int k = 2; k <= n; k++) (pPrev, p) = (p, ((2 * k - 1) * x * p - (k - 1) * pPrev) / k);
                dp = n * (x * p - pPrev) / (x * x - 1);
                double step = p / dp;
                x -= step;
                if (Math.Abs(step) < 1e-15) break;
            }
            nodes[n - 1 - i] = (x + 1) / 2;
            weights[n - 1 - i] = 1 / ((1 - x * x) * dp * dp); // 2/((1−x²)P′²) on [−1, 1], halved for [0, 1]
        }
        return (nodes, weights);
    }
}
