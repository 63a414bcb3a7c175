#!/usr/bin/python3
"""Guided Backpropagation Saliency Map: the seed notebook (shared/seed/guided_backprop_saliency.md)
as a runnable script, for side-by-side reading with guided_backprop.ts and as the PyTorch reference.

    /usr/bin/python3 packages/nn/scripts/export_torchvision.py --model resnet50 --num-classes 7 \
        --seed 0 --out /tmp/resnet50_7.safetensors
    /usr/bin/python3 examples/guided_backprop.py --weights /tmp/resnet50_7.safetensors \
        packages/viz/test/fixtures/AF01HAHR.png [--target 0] [--save-grads /tmp/ref.safetensors]

The helpers the notebook takes from pytorch-cnn-visualizations' misc_functions.py
(preprocess_image, save_gradient_images, convert_to_grayscale, get_positive_negative_saliency)
are reproduced below; `get_params` takes the image, class and model from the command line.
Extra flags: --repeat N times generate_gradients (forward + backward), --threads T
(torch.set_num_threads), --save-grads FILE writes input/logits/guided as safetensors.
"""
import argparse
import os
import sys
import time

# #### 1. Initial Set-Up

import numpy as np
from PIL import Image

import torch
from torch.autograd import Variable
from torchvision import models
from torch.nn import ReLU

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'packages', 'nn', 'scripts'))
from export_torchvision import load_safetensors_np, save_safetensors  # noqa: E402

RESULTS = 'results'


# #### misc_functions.py (pytorch-cnn-visualizations)

def format_np_output(np_arr):
    if len(np_arr.shape) == 2:
        np_arr = np.expand_dims(np_arr, axis=0)
    if np_arr.shape[0] == 1:
        np_arr = np.repeat(np_arr, 3, axis=0)
    if np_arr.shape[0] == 3:
        np_arr = np_arr.transpose(1, 2, 0)
    if np.max(np_arr) <= 1:
        np_arr = (np_arr * 255).astype(np.uint8)
    return np_arr


def save_image(im, path):
    if isinstance(im, (np.ndarray, np.generic)):
        im = format_np_output(im)
        im = Image.fromarray(im)
    im.save(path)


def save_gradient_images(gradient, file_name):
    if not os.path.exists(RESULTS):
        os.makedirs(RESULTS)
    # Normalize
    gradient = gradient - gradient.min()
    gradient /= gradient.max()
    # Save image
    path_to_file = os.path.join(RESULTS, file_name + '.png')
    save_image(gradient, path_to_file)


def convert_to_grayscale(im_as_arr):
    grayscale_im = np.sum(np.abs(im_as_arr), axis=0)
    im_max = np.percentile(grayscale_im, 99)
    im_min = np.min(grayscale_im)
    grayscale_im = (np.clip((grayscale_im - im_min) / (im_max - im_min), 0, 1))
    grayscale_im = np.expand_dims(grayscale_im, axis=0)
    return grayscale_im


def get_positive_negative_saliency(gradient):
    pos_saliency = (np.maximum(0, gradient) / gradient.max())
    neg_saliency = (np.maximum(0, -gradient) / -gradient.min())
    return pos_saliency, neg_saliency


def preprocess_image(pil_im, resize_im=True):
    mean = [0.485, 0.456, 0.406]
    std = [0.229, 0.224, 0.225]
    if resize_im:
        pil_im = pil_im.resize((224, 224), Image.LANCZOS)  # Image.ANTIALIAS in older Pillow
    im_as_arr = np.float32(pil_im)
    im_as_arr = im_as_arr.transpose(2, 0, 1)  # Convert array to D,W,H
    # Normalize the channels
    for channel, _ in enumerate(im_as_arr):
        im_as_arr[channel] /= 255
        im_as_arr[channel] -= mean[channel]
        im_as_arr[channel] /= std[channel]
    # Convert to float tensor
    im_as_ten = torch.from_numpy(im_as_arr).float()
    # Add one more channel to the beginning. Tensor shape = 1,3,224,224
    im_as_ten.unsqueeze_(0)
    # Convert to Pytorch variable
    im_as_var = Variable(im_as_ten, requires_grad=True)
    return im_as_var


def get_params(example_index, model, example_list):
    img_path = example_list[example_index][0]
    target_class = example_list[example_index][1]
    file_name_to_export = img_path[img_path.rfind('/') + 1:img_path.rfind('.')]
    # Read image
    original_image = Image.open(img_path).convert('RGB')
    # Process image
    prep_img = preprocess_image(original_image)
    pretrained_model = model
    return (original_image, prep_img, target_class, file_name_to_export, pretrained_model)


# #### 2. Write the GuidedBackprop class.

class GuidedBackprop():
    """
       Produces gradients generated with guided back propagation from the given image
    """
    def __init__(self, model):
        self.model = model
        self.gradients = None
        self.forward_relu_outputs = []

        # Put model in evaluation mode
        self.model.eval()
        self.update_relus()
        self.hook_layers()

    def hook_layers(self):
        def hook_function(module, grad_in, grad_out):
            self.gradients = grad_in[0]
        # Register hook to the first layer
        first_layer = list(self.model.children())[0]
        first_layer.register_backward_hook(hook_function)

    def update_relus(self):
        """
            Updates relu activation functions so that it only returns positive gradients
        """
        def relu_hook_function(module, grad_in, grad_out):
            """
            If there is a negative gradient, changes it to zero
            """
            if isinstance(module, ReLU):
                return (torch.clamp(grad_in[0], min=0.0),)

        # Loop through layers, hook up ReLUs with relu_hook_function
        for module in self.model.modules():
            if isinstance(module, ReLU):
                module.register_backward_hook(relu_hook_function)

    def generate_gradients(self, input_image, target_class):
        # Forward pass
        model_output = self.model(input_image)

        # Zero gradients
        self.model.zero_grad()

        # Target for backprop
        one_hot_output = torch.FloatTensor(1, model_output.size()[-1]).zero_()
        one_hot_output[0][target_class] = 1

        # Backward pass
        model_output.backward(gradient=one_hot_output)

        # Convert Pytorch variable to numpy array
        # [0] to get rid of the first channel (1,3,224,224)
        gradients_as_arr = self.gradients.data.numpy()[0]
        return gradients_as_arr


def load_model(name, num_classes, weights):
    model = getattr(models, name)(num_classes=num_classes)
    sd = {k: torch.from_numpy(np.array(v)) for k, v in load_safetensors_np(weights).items()}
    model.load_state_dict(sd)
    return model


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('image')
    p.add_argument('--weights', required=True)
    p.add_argument('--model', default='resnet50')
    p.add_argument('--num-classes', type=int, default=7)
    p.add_argument('--target', type=int, default=0)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--repeat', type=int, default=0, help='time N extra generate_gradients calls')
    p.add_argument('--save-grads', help='write input, logits and guided gradients (safetensors)')
    p.add_argument('--no-images', action='store_true')
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    model = load_model(args.model, args.num_classes, args.weights)

    # #### 3. Perform Guided Backpropagation on the model.

    # Guided backprop
    target_example = 0
    (original_image, prep_img, target_class, file_name_to_export, pretrained_model) =\
        get_params(target_example, model, [(args.image, args.target)])

    GBP = GuidedBackprop(model)

    # Get gradients
    # Retrieve output from the image
    output = model(prep_img)  # the notebook's `image` is the prep_img of an earlier cell

    # # Do backpropagation to get the derivative of the output based on the image
    guided_grads = GBP.generate_gradients(prep_img, target_class)

    if not args.no_images:
        # Save colored gradients
        save_gradient_images(guided_grads, file_name_to_export + '_Guided_BP_color')
        # Convert to grayscale
        grayscale_guided_grads = convert_to_grayscale(guided_grads)
        # Save grayscale gradients
        save_gradient_images(grayscale_guided_grads, file_name_to_export + '_Guided_BP_gray')
        # Positive and negative saliency maps
        pos_sal, neg_sal = get_positive_negative_saliency(guided_grads)
        save_gradient_images(pos_sal, file_name_to_export + '_pos_sal')
        save_gradient_images(neg_sal, file_name_to_export + '_neg_sal')

    print('Guided backprop completed')
    print('logits', output.detach().numpy().round(5).tolist(), 'max|grad|', float(np.abs(guided_grads).max()))

    if args.save_grads:
        save_safetensors({'input': prep_img.detach(), 'logits': output.detach(),
                          'guided': torch.from_numpy(np.ascontiguousarray(guided_grads))}, args.save_grads,
                         {'torch': torch.__version__, 'threads': args.threads})
    if args.repeat:
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            GBP.generate_gradients(prep_img, target_class)
            times.append(time.perf_counter() - t0)
        print(f'generate_gradients (forward+backward) x{args.repeat} with {torch.get_num_threads()} threads: '
              f'min {min(times) * 1e3:.0f} ms, median {sorted(times)[len(times) // 2] * 1e3:.0f} ms')


if __name__ == '__main__':
    main()
