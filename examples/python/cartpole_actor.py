"""
A Gymnasium CartPole actor that takes its actions from a policy Switchboard serves, through
Triton's tritonclient over the Open Inference Protocol (HTTP, binary tensors).

    npm run serve                      # the CartPole demo: its learner publishes "cartpole"
    python examples/python/cartpole_actor.py --url 127.0.0.1:8000 --token <Token: line> --steps 500

Works with any model that maps observations [N, 4] (FP32) to action logits [N, 2].
"""
import argparse
import time

import gymnasium as gym
import numpy as np
import tritonclient.http as http


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="127.0.0.1:8000", help="the inference API's host:port")
    parser.add_argument("--token", required=True, help="the token Switchboard printed (Token: ...)")
    parser.add_argument("--model", default="cartpole")
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    client = http.InferenceServerClient(args.url)
    headers = {"Authorization": f"Bearer {args.token}"}
    deadline = time.monotonic() + 60  # a fresh server publishes and loads its first policy after it starts listening
    while not client.is_model_ready(args.model, headers=dict(headers)):
        if time.monotonic() > deadline:
            raise SystemExit(f"model {args.model!r} is not ready on {args.url}")
        time.sleep(0.2)
    meta = client.get_model_metadata(args.model, headers=dict(headers))
    obs_name, logits_name = meta["inputs"][0]["name"], meta["outputs"][0]["name"]

    env = gym.make("CartPole-v1")
    obs, _ = env.reset(seed=args.seed)
    episode_return, returns, versions = 0.0, [], set()
    for _ in range(args.steps):
        request = http.InferInput(obs_name, [1, 4], "FP32")
        request.set_data_from_numpy(np.asarray(obs, dtype=np.float32).reshape(1, 4), binary_data=True)
        result = client.infer(args.model, [request], outputs=[http.InferRequestedOutput(logits_name, binary_data=True)], headers=dict(headers))
        versions.add(result.get_response()["model_version"])
        action = int(np.argmax(result.as_numpy(logits_name)[0]))
        obs, reward, terminated, truncated, _ = env.step(action)
        episode_return += float(reward)
        if terminated or truncated:
            returns.append(episode_return)
            episode_return = 0.0
            obs, _ = env.reset()
    env.close()
    mean = sum(returns) / len(returns) if returns else episode_return
    print(f"{args.steps} steps, {len(returns)} episodes, mean return {mean:.1f}, policy versions {sorted(versions, key=int)}")


if __name__ == "__main__":
    main()
