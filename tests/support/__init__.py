"""What the tests and benchmarks share and the product never ships: the small hand-checked files
(`helpers`), simulations with known truth (`*_simulation`), a throwaway PostgreSQL server
(`pgserver`) and the demo server the browser tests start (`demo_server`)."""
