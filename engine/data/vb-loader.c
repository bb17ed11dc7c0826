/* vb-loader.c: batches built by worker threads into a ring of `depth` slots. Batch b
 * goes to slot b % depth and may only be started once batch b − depth has been handed
 * out, which bounds the prefetch; the consumer takes batches strictly in order. All
 * randomness comes from (seed, epoch[, index]), never from which thread ran first.
 * Restarting or freeing raises `cancel`; workers look at it between samples. */
#include "config.h"

#include "vb-loader.h"
#include "vb-error.h"
#include "vb-rng.h"

#include <string.h>

#define MAX_DEPTH 4

typedef struct {
  float   *images;
  int     *labels;
  int      n;
  int      skipped;
  GError  *error;
  int      batch;      /* which batch is in the slot; -1 none */
  gboolean ready;
} Slot;

struct _VbLoader {
  VbDataset       *ds;
  int             *indices;
  gsize            n;
  int              batch_size;
  gboolean         shuffle;
  gboolean         drop_last;
  VbTransformSpec  spec;
  guint64          seed;
  int              n_batches;
  gsize            sample_floats;
  int              shard, n_shards;   /* data parallel: this rank's rows of each batch */

  GMutex           lock;
  GCond            cond;
  GThread        **threads;
  int              n_workers;
  Slot             slots[MAX_DEPTH];
  int              depth;
  int             *order;          /* this epoch's sample order */
  int              epoch;
  gboolean         started;
  gboolean         active;         /* an epoch is being produced */
  gboolean         cancel;
  gboolean         stop;
  int              next_assign;
  int              next_consume;
  int              busy;           /* workers building a batch */
  guint64          skipped_total;
};

static guint64
mix64 (guint64 z)
{
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/* Seeds for the epoch order and for one sample; distinct domains so they never meet. */
static guint64
derive_seed (guint64 seed, int epoch, guint64 stream)
{
  guint64 h = mix64 (seed + 0x9e3779b97f4a7c15ULL);
  h = mix64 (h ^ ((guint64) (guint32) epoch * 0xd1b54a32d192ed03ULL));
  return mix64 (h ^ (stream + 0x632be59bd9b4e019ULL));
}

/* Builds batch b into slot; runs without the lock (the slot is reserved for b).
 * Returns FALSE when cancelled. */
static gboolean
build_batch (VbLoader *self, int b, Slot *slot)
{
  int begin = b * self->batch_size;
  int end = MIN ((gsize) begin + self->batch_size, self->n);
  /* a shard's rows of the batch: equal shares, the first ones smaller when uneven */
  int rows = end - begin;
  end = begin + (int) ((gint64) rows * (self->shard + 1) / self->n_shards);
  begin += (int) ((gint64) rows * self->shard / self->n_shards);

  slot->n = 0;
  slot->skipped = 0;
  g_clear_error (&slot->error);
  for (int k = begin; k < end; k++)
    {
      int idx = self->order[k];
      g_auto(VbImage) img = { 0 };
      g_autoptr(GError) local = NULL;
      VbRng rng;

      if (g_atomic_int_get (&self->cancel))
        return FALSE;
      if (!vb_dataset_get_image (self->ds, (gsize) idx, &img, &local))
        {
          if (g_error_matches (local, VB_ENGINE_ERROR, VB_ENGINE_ERROR_CORRUPT))
            {
              g_debug ("skipping sample %d: %s", idx, local->message);
              slot->skipped++;
              continue;
            }
          slot->error = g_steal_pointer (&local);
          return TRUE;
        }
      vb_rng_init (&rng, derive_seed (self->seed, self->epoch, (guint64) idx));
      if (!vb_transform_apply (&self->spec, &img, &rng,
                               slot->images + (gsize) slot->n * self->sample_floats, &local))
        {
          g_prefix_error (&local, "%s, sample %d: ", vb_dataset_name (self->ds), idx);
          slot->error = g_steal_pointer (&local);
          return TRUE;
        }
      slot->labels[slot->n++] = vb_dataset_label (self->ds, (gsize) idx);
    }
  return TRUE;
}

static gpointer
worker_main (gpointer data)
{
  VbLoader *self = data;

  g_mutex_lock (&self->lock);
  while (!self->stop)
    {
      int b;
      Slot *slot;
      gboolean done;

      if (!self->active || self->cancel || self->next_assign >= self->n_batches
          || self->next_assign >= self->next_consume + self->depth)
        {
          g_cond_wait (&self->cond, &self->lock);
          continue;
        }
      b = self->next_assign++;
      slot = &self->slots[b % self->depth];
      self->busy++;
      g_mutex_unlock (&self->lock);

      done = build_batch (self, b, slot);

      g_mutex_lock (&self->lock);
      self->busy--;
      if (done && !self->cancel)
        {
          slot->batch = b;
          slot->ready = TRUE;
        }
      g_cond_broadcast (&self->cond);
    }
  g_mutex_unlock (&self->lock);
  return NULL;
}

VbLoader *
vb_loader_new (VbDataset *ds, const int *indices, gsize n, int batch_size, gboolean shuffle,
               gboolean drop_last, const VbTransformSpec *spec, guint64 seed, int n_workers)
{
  VbLoader *self;

  g_return_val_if_fail (ds != NULL && spec != NULL && batch_size > 0 && spec->out_size > 0,
                        NULL);

  self = g_new0 (VbLoader, 1);
  self->ds = vb_dataset_ref (ds);
  if (indices == NULL)
    {
      n = vb_dataset_size (ds);
      self->indices = g_new (int, MAX (n, 1));
      for (gsize i = 0; i < n; i++)
        self->indices[i] = (int) i;
    }
  else
    {
      self->indices = g_new (int, MAX (n, 1));
      memcpy (self->indices, indices, n * sizeof (int));
    }
  self->n = n;
  self->order = g_new (int, MAX (n, 1));
  self->batch_size = batch_size;
  self->shuffle = shuffle;
  self->drop_last = drop_last;
  self->spec = *spec;
  self->seed = seed;
  self->n_shards = 1;
  self->n_batches = (int) (drop_last ? n / batch_size : (n + batch_size - 1) / batch_size);
  self->sample_floats = (gsize) spec->out_size * spec->out_size * 3;
  self->n_workers = MAX (n_workers, 0);
  self->depth = CLAMP (self->n_workers + 1, 2, MAX_DEPTH);
  /* with no workers the one slot in use is filled in vb_loader_next */
  if (self->n_workers == 0)
    self->depth = 1;
  for (int s = 0; s < self->depth; s++)
    {
      self->slots[s].images = g_new (float, self->sample_floats * batch_size);
      self->slots[s].labels = g_new (int, batch_size);
      self->slots[s].batch = -1;
    }

  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  self->threads = g_new0 (GThread *, MAX (self->n_workers, 1));
  for (int w = 0; w < self->n_workers; w++)
    self->threads[w] = g_thread_new ("vb-loader", worker_main, self);
  return self;
}

/* Called with the lock held: stops the current epoch and waits for busy workers. */
static void
abandon_epoch (VbLoader *self)
{
  g_atomic_int_set (&self->cancel, TRUE);
  g_cond_broadcast (&self->cond);
  while (self->busy > 0)
    g_cond_wait (&self->cond, &self->lock);
  self->active = FALSE;
  for (int s = 0; s < self->depth; s++)
    {
      self->slots[s].ready = FALSE;
      self->slots[s].batch = -1;
      g_clear_error (&self->slots[s].error);
    }
  g_atomic_int_set (&self->cancel, FALSE);
}

void
vb_loader_set_shard (VbLoader *self, int shard, int n_shards)
{
  g_return_if_fail (n_shards >= 1 && shard >= 0 && shard < n_shards);
  g_mutex_lock (&self->lock);
  abandon_epoch (self);
  self->shard = shard;
  self->n_shards = n_shards;
  self->started = FALSE;
  g_mutex_unlock (&self->lock);
}

void
vb_loader_start_epoch (VbLoader *self, int epoch)
{
  g_mutex_lock (&self->lock);
  abandon_epoch (self);

  memcpy (self->order, self->indices, self->n * sizeof (int));
  if (self->shuffle)
    {
      VbRng rng;
      vb_rng_init (&rng, derive_seed (self->seed, epoch, G_MAXUINT64));
      vb_rng_shuffle_int (&rng, self->order, self->n);
    }
  self->epoch = epoch;
  self->next_assign = 0;
  self->next_consume = 0;
  self->started = TRUE;
  self->active = TRUE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

gboolean
vb_loader_next (VbLoader *self, float *images, int *labels, int *n_out, GError **error)
{
  *n_out = 0;
  if (!self->started)
    vb_loader_start_epoch (self, 0);

  for (;;)
    {
      Slot *slot;
      int b;

      g_mutex_lock (&self->lock);
      if (self->next_consume >= self->n_batches)
        {
          g_mutex_unlock (&self->lock);
          return FALSE;
        }
      b = self->next_consume;
      slot = &self->slots[b % self->depth];
      if (self->n_workers == 0)
        {
          /* synchronous: nobody else touches the slot */
          g_mutex_unlock (&self->lock);
          build_batch (self, b, slot);
          g_mutex_lock (&self->lock);
        }
      else
        while (!(slot->ready && slot->batch == b))
          g_cond_wait (&self->cond, &self->lock);
      g_mutex_unlock (&self->lock);

      /* the slot stays reserved until next_consume moves past it */
      if (slot->error != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&slot->error));
          g_mutex_lock (&self->lock);
          slot->ready = FALSE;
          self->next_consume = self->n_batches;   /* the epoch cannot go on */
          self->active = FALSE;
          g_mutex_unlock (&self->lock);
          return FALSE;
        }
      memcpy (images, slot->images, (gsize) slot->n * self->sample_floats * sizeof (float));
      memcpy (labels, slot->labels, (gsize) slot->n * sizeof (int));
      *n_out = slot->n;

      g_mutex_lock (&self->lock);
      self->skipped_total += (guint64) slot->skipped;
      slot->ready = FALSE;
      self->next_consume++;
      g_cond_broadcast (&self->cond);
      g_mutex_unlock (&self->lock);

      if (*n_out > 0)
        return TRUE;
    }
}

int
vb_loader_n_batches (VbLoader *self)
{
  return self->n_batches;
}

int
vb_loader_batch_size (VbLoader *self)
{
  return self->batch_size;
}

guint64
vb_loader_skipped_count (VbLoader *self)
{
  guint64 v;

  g_mutex_lock (&self->lock);
  v = self->skipped_total;
  g_mutex_unlock (&self->lock);
  return v;
}

void
vb_loader_free (VbLoader *self)
{
  if (self == NULL)
    return;

  g_mutex_lock (&self->lock);
  abandon_epoch (self);
  self->stop = TRUE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  for (int w = 0; w < self->n_workers; w++)
    g_thread_join (self->threads[w]);

  for (int s = 0; s < self->depth; s++)
    {
      g_free (self->slots[s].images);
      g_free (self->slots[s].labels);
      g_clear_error (&self->slots[s].error);
    }
  g_free (self->threads);
  g_free (self->order);
  g_free (self->indices);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  vb_dataset_unref (self->ds);
  g_free (self);
}
