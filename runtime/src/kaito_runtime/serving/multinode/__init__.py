"""One vLLM instance across the pods of a StatefulSet.

Rank 0 (the leader) runs the Ray head and, once every pod has joined, vLLM's OpenAI server, whose
``--distributed-executor-backend=ray`` places the model's stages on the Ray cluster. The other ranks
only join that cluster as Ray workers and answer the pod's ``/health`` probe.
"""
