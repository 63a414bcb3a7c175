#!/usr/bin/python3
"""One image, end to end, the PyTorch way: import, load a ResNet-50 state dict, preprocess,
guided backprop, write the seed's four PNGs. `pnpm bench` times this process from start to
exit, next to `pnpm gbp IMAGE --model resnet50 --weights ...`.

    /usr/bin/python3 bench/peers/torch_one_image.py IMAGE STATE_DICT.pt OUT_DIR [NUM_CLASSES]

The helpers are the seed's (pytorch-cnn-visualizations' misc_functions.py: preprocess_image,
save_gradient_images, convert_to_grayscale, get_positive_negative_saliency), writing .png like
`pnpm gbp`. The target is the top prediction (pnpm gbp's default). Imports are the ones the
guided backprop needs (numpy, PIL, torch, torchvision.models); the seed notebook also imports
matplotlib for its colormap helpers, which this script leaves out. Phase timings go to stderr.
"""
import time

T0 = time.perf_counter()
import os  # noqa: E402
import sys  # noqa: E402
import json  # noqa: E402

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
import torch  # noqa: E402
from torch.autograd import Variable  # noqa: E402
from torchvision import models  # noqa: E402
from torch.nn import ReLU  # noqa: E402

T_IMPORT = time.perf_counter()


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
        def relu_hook_function(module, grad_in, grad_out):
            if isinstance(module, ReLU):
                return (torch.clamp(grad_in[0], min=0.0),)
        for module in self.model.modules():
            if isinstance(module, ReLU):
                module.register_backward_hook(relu_hook_function)

    def generate_gradients(self, input_image, target_class):
        model_output = self.model(input_image)
        self.model.zero_grad()
        one_hot_output = torch.FloatTensor(1, model_output.size()[-1]).zero_()
        one_hot_output[0][target_class] = 1
        model_output.backward(gradient=one_hot_output)
        gradients_as_arr = self.gradients.data.numpy()[0]
        return gradients_as_arr


def preprocess_image(pil_im, resize_im=True):
    mean = [0.485, 0.456, 0.406]
    std = [0.229, 0.224, 0.225]
    if resize_im:
        pil_im = pil_im.resize((224, 224), Image.LANCZOS)  # Image.ANTIALIAS in the seed (same filter)
    im_as_arr = np.float32(pil_im)
    im_as_arr = im_as_arr.transpose(2, 0, 1)  # Convert array to D,W,H
    for channel, _ in enumerate(im_as_arr):
        im_as_arr[channel] /= 255
        im_as_arr[channel] -= mean[channel]
        im_as_arr[channel] /= std[channel]
    im_as_ten = torch.from_numpy(im_as_arr).float()
    im_as_ten.unsqueeze_(0)
    im_as_var = Variable(im_as_ten, requires_grad=True)
    return im_as_var


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


def save_gradient_images(gradient, out_dir, file_name):
    gradient = gradient - gradient.min()
    gradient /= gradient.max()
    save_image(gradient, os.path.join(out_dir, file_name + '.png'))


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


def main():
    img_path, state_dict_path, out_dir = sys.argv[1], sys.argv[2], sys.argv[3]
    num_classes = int(sys.argv[4]) if len(sys.argv) > 4 else 7
    torch.set_num_threads(int(os.environ.get('BENCH_THREADS', '2')))
    t = {'import': T_IMPORT - T0}
    t1 = time.perf_counter()
    model = models.resnet50(num_classes=num_classes)
    model.load_state_dict(torch.load(state_dict_path))
    t['load'] = time.perf_counter() - t1

    t1 = time.perf_counter()
    original_image = Image.open(img_path).convert('RGB')
    prep_img = preprocess_image(original_image)
    file_name_to_export = os.path.splitext(os.path.basename(img_path))[0]
    t['preprocess'] = time.perf_counter() - t1

    t1 = time.perf_counter()
    GBP = GuidedBackprop(model)
    output = model(prep_img)
    target_class = int(output.argmax(1)[0])
    guided_grads = GBP.generate_gradients(prep_img, target_class)
    t['guided_backprop'] = time.perf_counter() - t1

    t1 = time.perf_counter()
    os.makedirs(out_dir, exist_ok=True)
    save_gradient_images(guided_grads, out_dir, file_name_to_export + '_Guided_BP_color')
    grayscale_guided_grads = convert_to_grayscale(guided_grads)
    save_gradient_images(grayscale_guided_grads, out_dir, file_name_to_export + '_Guided_BP_gray')
    pos_sal, neg_sal = get_positive_negative_saliency(guided_grads)
    save_gradient_images(pos_sal, out_dir, file_name_to_export + '_pos_sal')
    save_gradient_images(neg_sal, out_dir, file_name_to_export + '_neg_sal')
    t['write'] = time.perf_counter() - t1
    print('Guided backprop completed (target class %d)' % target_class)
    print('@@PHASES ' + json.dumps({k: round(v * 1000, 1) for k, v in t.items()}), file=sys.stderr)


if __name__ == '__main__':
    import warnings
    warnings.simplefilter('ignore')
    main()
