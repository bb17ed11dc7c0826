#include "vb-rng.h"

#include <math.h>

static uint64_t
splitmix64 (uint64_t *x)
{
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static inline uint64_t
rotl (uint64_t x, int k)
{
  return (x << k) | (x >> (64 - k));
}

void
vb_rng_init (VbRng *rng, uint64_t seed)
{
  uint64_t x = seed;
  for (int i = 0; i < 4; i++)
    rng->s[i] = splitmix64 (&x);
}

uint64_t
vb_rng_next_u64 (VbRng *rng)
{
  uint64_t *s = rng->s;
  uint64_t result = rotl (s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl (s[3], 45);
  return result;
}

float
vb_rng_uniform (VbRng *rng)
{
  return (float) (vb_rng_next_u64 (rng) >> 40) * (1.0f / 16777216.0f);
}

float
vb_rng_range (VbRng *rng, float lo, float hi)
{
  return lo + (hi - lo) * vb_rng_uniform (rng);
}

uint64_t
vb_rng_below (VbRng *rng, uint64_t n)
{
  uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t x;
  do
    x = vb_rng_next_u64 (rng);
  while (x >= limit);
  return x % n;
}

float
vb_rng_normal (VbRng *rng)
{
  double u1 = ((vb_rng_next_u64 (rng) >> 11) + 1.0) * (1.0 / 9007199254740993.0);
  double u2 = (vb_rng_next_u64 (rng) >> 11) * (1.0 / 9007199254740992.0);
  return (float) (sqrt (-2.0 * log (u1)) * cos (2.0 * G_PI * u2));
}

float
vb_rng_trunc_normal (VbRng *rng, float std, float bound)
{
  for (;;)
    {
      float x = std * vb_rng_normal (rng);
      if (x >= -bound && x <= bound)
        return x;
    }
}

void
vb_rng_shuffle_int (VbRng *rng, int *v, size_t n)
{
  for (size_t i = n; i > 1; i--)
    {
      size_t j = (size_t) vb_rng_below (rng, i);
      int t = v[i - 1];
      v[i - 1] = v[j];
      v[j] = t;
    }
}

void
vb_rng_split (VbRng *rng, VbRng *child, uint64_t stream_id)
{
  vb_rng_init (child, vb_rng_next_u64 (rng) ^ (stream_id * 0x9e3779b97f4a7c15ULL));
}
