/* lt_plans.cu: cuBLASLt products' plans — descriptors and the algorithm the heuristic
 * chose — made once a shape and kept in a small cache, so that the heuristic is asked once
 * a shape rather than in front of every product (linear.cu's bias products, wgrad.cu's
 * weight-gradient slices). */
#include <stdlib.h>
#include <string.h>

#include "vb-cuda-private.h"

#define LT_PLANS 64

struct VbLtPlans
{
  VbLtPlan plan[LT_PLANS];
  int used, next;
};

static void
plan_clear (VbLtPlan *p)
{
  if (p->lc != NULL)
    cublasLtMatrixLayoutDestroy (p->lc);
  if (p->lb != NULL)
    cublasLtMatrixLayoutDestroy (p->lb);
  if (p->la != NULL)
    cublasLtMatrixLayoutDestroy (p->la);
  if (p->op != NULL)
    cublasLtMatmulDescDestroy (p->op);
  memset (p, 0, sizeof *p);
}

void
vb_cuda_lt_plans_free (struct VbLtPlans *plans)
{
  if (plans == NULL)
    return;
  for (int i = 0; i < plans->used; i++)
    plan_clear (&plans->plan[i]);
  free (plans);
}

VbLtPlan *
vb_cuda_lt_plan_slot (struct VbLtPlans **plans, const int64_t key[VB_LT_KEY], bool *made)
{
  *made = false;
  if (*plans == NULL
      && (*plans = (struct VbLtPlans *) calloc (1, sizeof (struct VbLtPlans))) == NULL)
    return NULL;
  struct VbLtPlans *ps = *plans;
  for (int i = 0; i < ps->used; i++)
    if (memcmp (ps->plan[i].key, key, sizeof ps->plan[i].key) == 0)
      return &ps->plan[i];
  VbLtPlan *p;
  if (ps->used < LT_PLANS)
    p = &ps->plan[ps->used++];
  else
    {
      /* full: the oldest goes */
      p = &ps->plan[ps->next];
      ps->next = (ps->next + 1) % LT_PLANS;
    }
  plan_clear (p);
  memcpy (p->key, key, sizeof p->key);
  *made = true;
  return p;
}

void
vb_cuda_lt_plan_choose (VbCuda *cu, VbLtPlan *p, uint32_t reduction_mask)
{
  uint64_t ws = VB_CUDA_BLAS_WORKSPACE;
  cublasLtMatmulPreference_t pref = NULL;
  cublasLtMatmulHeuristicResult_t h;
  int found = 0;
  if (cublasLtMatmulPreferenceCreate (&pref) == CUBLAS_STATUS_SUCCESS
      && cublasLtMatmulPreferenceSetAttribute (pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                               &ws, sizeof ws) == CUBLAS_STATUS_SUCCESS
      && cublasLtMatmulPreferenceSetAttribute (pref, CUBLASLT_MATMUL_PREF_REDUCTION_SCHEME_MASK,
                                               &reduction_mask, sizeof reduction_mask)
             == CUBLAS_STATUS_SUCCESS
      && cublasLtMatmulAlgoGetHeuristic (cu->lt, p->op, p->la, p->lb, p->lc, p->lc, pref, 1, &h,
                                         &found) == CUBLAS_STATUS_SUCCESS
      && found > 0)
    {
      p->algo = h.algo;
      p->found = true;
    }
  if (pref != NULL)
    cublasLtMatmulPreferenceDestroy (pref);
}

bool
vb_cuda_lt_ready (VbCuda *cu)
{
  if (cu->lt == NULL && cublasLtCreate (&cu->lt) != CUBLAS_STATUS_SUCCESS)
    cu->lt = NULL;
  return cu->lt != NULL;
}
