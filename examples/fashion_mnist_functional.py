"""The lecture's Fashion-MNIST MLP (Functional API), trained by Nesterov momentum.

    python examples/fashion_mnist_functional.py [--quick] [--out DIR] [--epochs N]
                                                [--dropout P] [--l2 L]

The same as fashion_mnist_sequential.py, but the model is a graph of layers
called on tensors, and the optimizer is filteropt's Nesterov SGD (an ARMA1
filter on the gradient). --quick trains 2 epochs on scikit-learn's 8x8
digits instead, offline.
"""

from pathlib import Path

import keras

import filteropt
from filteropt.cli import tasks

parser = tasks.example_parser(__doc__.splitlines()[0])
parser.add_argument(
    "--dropout", type=float, default=0.0, help="dropout rate after the hidden layer"
)
parser.add_argument(
    "--l2", type=float, default=0.0, help="L2 penalty on the hidden layer's weights"
)
args = parser.parse_args()

task = tasks.get("digits" if args.quick else "fashion_mnist")
epochs = args.epochs or (2 if args.quick else task.default_epochs)
x_train, y_train, x_val, y_val, x_test, y_test = tasks.load_or_exit(task, args.seed)
out = Path(args.out)
out.mkdir(parents=True, exist_ok=True)

# The model, as layers called on tensors: inputs -> hidden -> output.
keras.utils.set_random_seed(args.seed)
regularizer = keras.regularizers.L2(args.l2) if args.l2 else None
inputs = keras.Input(shape=x_train.shape[1:], name="images")
z = keras.layers.Flatten()(inputs)
z = keras.layers.Dense(128, activation="relu", kernel_regularizer=regularizer, name="hidden")(z)
z = keras.layers.Dropout(args.dropout)(z)
z = keras.layers.Dense(10, activation="softmax", name="output")(z)
model = keras.Model(inputs=inputs, outputs=z)
model.summary()

optimizer = filteropt.SGD(learning_rate=0.01, momentum=0.9, nesterov=True)
print("gradient filter H(z):", optimizer.gradient_filter)
model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
results = model.fit(
    x_train,
    y_train,
    batch_size=task.default_batch_size,
    epochs=epochs,
    validation_data=(x_val, y_val),
    verbose=2,
)
for path in tasks.plot_learning_curves(results, out, "functional_", ylabel="cross-entropy"):
    print("saved", path)

# Save, then read back with no custom_objects: `import filteropt` registers its
# optimizers with Keras, in a fresh process too.
model_file = out / "fashion_mnist_functional.keras"
model.save(model_file)
model_copy = keras.models.load_model(model_file)

prediction = model_copy.predict(x_test[:1], verbose=0)  # a batch of one image
tasks.print_prediction(prediction, task.class_names, y_test[0])

test_loss, test_acc = model_copy.evaluate(x_test, y_test, verbose=0)
print(f"Test loss: {test_loss:.3f}   Test accuracy: {100 * test_acc:.2f}%")
