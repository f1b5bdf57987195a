-- Ratio and business metrics pushed by an agent: per sample, named numerator and denominator counts
-- ({ "accuracy": { "numerator": 90, "denominator": 100 } }), summed per version over an analysis window.
ALTER TABLE "metric_sample" ADD COLUMN "ratios" JSONB;
